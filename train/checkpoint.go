package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"

	"github.com/nasrun/nasrun/nn"
	"github.com/nasrun/nasrun/safetensors"
)

// save writes the checkpoint: the network's state dict, the optimizer's
// buffers under "optimizer.", and the position in the metadata, atomically.
func (t *Trainer) save(epochs int, accs []float64) error {
	sd := t.Net.StateDict()
	ck := checkpoint{Epoch: epochs, EpochValAcc: accs, Recipe: t.Recipe}
	if s, ok := t.opt.(nn.Stateful); ok {
		steps, bufs := s.State()
		ck.OptSteps = steps
		for name, b := range bufs {
			sd[optPrefix+name] = safetensors.Tensor{Shape: []int{len(b)}, Data: b}
		}
	}
	js, err := json.Marshal(ck)
	if err != nil {
		return err
	}
	meta := maps.Clone(t.Net.Meta)
	meta[metaCheckpoint] = string(js)
	if err := safetensors.Save(t.Checkpoint, sd, meta); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	return nil
}

// load restores a checkpoint into the network and optimizer. It returns nil
// (and changes nothing) when there is no checkpoint file.
func (t *Trainer) load() (*checkpoint, error) {
	sd, meta, err := safetensors.Load(t.Checkpoint)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("train: resume: %w", err)
	}
	var ck checkpoint
	if err := json.Unmarshal([]byte(meta[metaCheckpoint]), &ck); err != nil {
		return nil, fmt.Errorf("train: resume: %s is not a nasrun checkpoint (%v)", t.Checkpoint, err)
	}
	if ck.Recipe != t.Recipe {
		return nil, fmt.Errorf("train: resume: %s was written with another recipe (%+v); use the same settings or start afresh", t.Checkpoint, ck.Recipe)
	}
	bufs := map[string][]float32{}
	for name, tn := range sd {
		if len(name) > len(optPrefix) && name[:len(optPrefix)] == optPrefix {
			bufs[name[len(optPrefix):]] = tn.Data
			delete(sd, name)
		}
	}
	if err := t.Net.LoadStateDict(sd); err != nil {
		return nil, fmt.Errorf("train: resume: %s: %w", t.Checkpoint, err)
	}
	if s, ok := t.opt.(nn.Stateful); ok {
		if err := s.SetState(ck.OptSteps, bufs); err != nil {
			return nil, fmt.Errorf("train: resume: %s: %w", t.Checkpoint, err)
		}
	}
	return &ck, nil
}

// checkpoint is the position stored in a checkpoint's metadata.
type checkpoint struct {
	Epoch       int       `json:"epoch"` // epochs completed
	EpochValAcc []float64 `json:"epoch_val_acc"`
	Recipe      Recipe    `json:"recipe"`
	OptSteps    int       `json:"opt_steps"`
}

const (
	metaCheckpoint = "nasrun.checkpoint"
	optPrefix      = "optimizer."
)
