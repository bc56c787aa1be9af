package nas

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// TrialLogName is the trial log's file name inside a run directory.
const TrialLogName = "trials.jsonl"

// Trial statuses.
const (
	TrialOK     = "ok"
	TrialFailed = "failed"
)

// Trial is one finished trial: one line of the run's append-only log, the
// source of truth of a search. Everything but Timing is a deterministic
// function of the run's settings, seed and trial index, so an interrupted and
// resumed run logs the same trials as an uninterrupted one.
type Trial struct {
	Index    int       `json:"trial"`
	ID       string    `json:"id"` // the genome's stable hash
	Genome   Genome    `json:"genome"`
	Parent   int       `json:"parent"` // trial index of the parent, −1 for a random sample
	Mutation *Mutation `json:"mutation,omitempty"`
	DupOf    *int      `json:"dup_of,omitempty"`               // an earlier trial of the same architecture whose results were reused
	Status   string    `json:"status"`                         // TrialOK or TrialFailed
	Reason   string    `json:"reason,omitempty"`               // why a trial failed
	Acc      float64   `json:"acc"`                            // proxy validation accuracy, 0..1
	LatMs    float64   `json:"latency_ms"`                     // batch-1 latency
	LatFrom  string    `json:"latency_from"`                   // how the latency was obtained
	PredMs   float64   `json:"predicted_latency_ms,omitempty"` // the lookup table's prediction
	Redraws  int       `json:"redraws,omitempty"`              // candidates drawn and rejected before this one (prescreened away or tried before)
	MACs     int64     `json:"macs"`
	Params   int64     `json:"params"`
	Reward   float64   `json:"reward"`
	Timing   Timing    `json:"timing"`
}

// Timing holds a trial's wall-clock costs; unlike the rest of a Trial they
// differ between runs.
type Timing struct {
	TrainS   float64 `json:"train_s"`
	LatencyS float64 `json:"latency_s"`
}

// TrialLog appends trials to a run directory's log, each line written whole
// and fsynced before Append returns, so a trial that was reported finished
// survives a crash or kill -9.
type TrialLog struct {
	f    *os.File
	path string
}

// OpenTrialLog opens (creating if needed) the trial log in dir and returns
// the trials it already holds. A torn last line, left by a crash in the
// middle of a write, is cut off: that trial had not finished. A malformed
// line anywhere else is an error naming the line, since dropping it would
// lose a finished trial.
func OpenTrialLog(dir string) (*TrialLog, []Trial, error) {
	path := filepath.Join(dir, TrialLogName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	trials, good, err := readTrials(f, path)
	if err == nil {
		err = f.Truncate(good)
	}
	if err == nil {
		_, err = f.Seek(good, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return &TrialLog{f: f, path: path}, trials, nil
}

// readTrials parses the log and returns its trials and the byte length of
// the part to keep.
func readTrials(r io.Reader, path string) ([]Trial, int64, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, err
	}
	var trials []Trial
	var off int64
	for line := 1; len(data) > 0; line++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			// No newline: the write of this line never completed.
			break
		}
		var t Trial
		if err := strictUnmarshal(data[:i], &t); err != nil {
			if i+1 == len(data) && !json.Valid(data[:i]) {
				// A torn last line whose newline happened to be written
				// cannot occur with one write, but a crash-truncated
				// file may end mid-line; treat only invalid JSON as torn.
				break
			}
			return nil, 0, fmt.Errorf("%s line %d: %v (the trial log is corrupt; fix or remove that line to resume)", path, line, err)
		}
		if t.Index != len(trials) {
			return nil, 0, fmt.Errorf("%s line %d: trial %d where trial %d was expected (the trial log is corrupt)", path, line, t.Index, len(trials))
		}
		trials = append(trials, t)
		off += int64(i + 1)
		data = data[i+1:]
	}
	return trials, off, nil
}

func strictUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// Append writes one trial as one line and waits until it is on disk.
func (l *TrialLog) Append(t Trial) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("trial %d: %v", t.Index, err)
	}
	b = append(b, '\n')
	if _, err := l.f.Write(b); err != nil {
		return fmt.Errorf("%s: %v", l.path, err)
	}
	return l.f.Sync()
}

// Close closes the log file.
func (l *TrialLog) Close() error { return l.f.Close() }

// ReadTrials reads the trial log of a run directory without modifying it.
func ReadTrials(dir string) ([]Trial, error) {
	path := filepath.Join(dir, TrialLogName)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	trials, _, err := readTrials(bufio.NewReader(f), path)
	return trials, err
}
