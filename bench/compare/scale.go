package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/nasrun/nasrun/bench/suite"
)

// scaleRows are the rows --scale times when --rows is not given: one of each
// kind of kernel.
var scaleRows = []string{"dw3s1", "conv5", "pw-exp", "maxpool", "gap-n32", "hswish", "sgemm-pw"}

// scale runs nasbench --scale and prints how each kernel's time grows with
// its work (batch, image side): ms ÷ work relative to the row itself stays
// near 1.00 when the cost is linear.
func scale(nasbench string, rows []suite.Row, threads []int) error {
	ids := scaleRows
	if *flagRows != "" {
		ids = nil
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
	}
	var ts []string
	for _, t := range threads {
		ts = append(ts, strconv.Itoa(t))
	}
	cmd := exec.Command(nasbench, "--scale", "--rows", strings.Join(ids, ","), "--threads", strings.Join(ts, ","),
		"--samples", strconv.Itoa(*flagSamples), "--sample-ms", fmt.Sprint(*flagSample))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return err
	}
	fmt.Printf("Command: `%s`\n\n| row | threads | variant | work | nasrun ms | ms ÷ work, relative to ×1 |\n|---|--:|---|--:|--:|--:|\n", commandLine())
	base := map[string]float64{}
	var skipped []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var l struct {
			Row, Scale, Skip string
			Threads          int
			Ms, Work         float64
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return err
		}
		if l.Skip != "" {
			if s := l.Row + ": " + l.Skip; !strings.Contains(strings.Join(skipped, "\n"), s) {
				skipped = append(skipped, s)
			}
			continue
		}
		k := fmt.Sprint(l.Row, "/", l.Threads)
		if l.Work == 1 {
			base[k] = l.Ms
		}
		fmt.Printf("| %s | %d | %s | ×%g | %s | %.2f |\n", l.Row, l.Threads, l.Scale, l.Work, fmtMs(l.Ms), l.Ms/l.Work/base[k])
	}
	for _, s := range skipped {
		fmt.Println("- skipped", s)
	}
	return nil
}
