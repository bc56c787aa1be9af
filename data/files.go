package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultDir is where Debian's dataset-fashion-mnist package installs
// Fashion-MNIST.
const DefaultDir = "/usr/share/datasets/fashion-mnist"

// EnvVar names the environment variable that overrides DefaultDir.
const EnvVar = "NASRUN_DATA"

// ErrNotFound is wrapped by the error for a missing data directory or file.
var ErrNotFound = errors.New("data set not found")

// Classes is the number of classes of MNIST and Fashion-MNIST.
const Classes = 10

// Dir resolves the data directory: flag when not empty (the CLI's --data),
// else $NASRUN_DATA when set, else DefaultDir.
func Dir(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv(EnvVar); env != "" {
		return env
	}
	return DefaultDir
}

// Split names a part of an MNIST-style data set as its file names do.
type Split string

// The two splits stored on disk.
const (
	Train Split = "train"
	Test  Split = "t10k"
)

// fileNames lists the accepted names of a split's images or labels file, in
// order of preference: gzip as distributed, unpacked, and the dotted
// variant some mirrors use.
func fileNames(split Split, kind string) []string {
	idx := "idx3"
	if kind == "labels" {
		idx = "idx1"
	}
	base := fmt.Sprintf("%s-%s-%s-ubyte", split, kind, idx)
	dotted := fmt.Sprintf("%s-%s.%s-ubyte", split, kind, idx)
	return []string{base + ".gz", base, dotted + ".gz", dotted}
}

// installHint tells a user how to get the data or point elsewhere.
const installHint = `install Fashion-MNIST with "sudo apt-get install dataset-fashion-mnist" ` +
	`(it goes to ` + DefaultDir + `), or point --data (or ` + EnvVar + `) at a directory ` +
	`holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, ` +
	`t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (gzip or unpacked)`

// findFile returns the path of the first existing accepted name.
func findFile(dir string, split Split, kind string) (string, error) {
	names := fileNames(split, kind)
	for _, n := range names {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("data: %w: no %s (nor %s) in %s; %s",
		ErrNotFound, names[0], strings.Join(names[1:], ", "), dir, installHint)
}

// checkDir reports a missing or unreadable data directory with the install
// hint.
func checkDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("data: %w: directory %s does not exist; %s", ErrNotFound, dir, installHint)
	case err != nil:
		return fmt.Errorf("data: %w: %v; %s", ErrNotFound, err, installHint)
	case !st.IsDir():
		return fmt.Errorf("data: %w: %s is not a directory; %s", ErrNotFound, dir, installHint)
	}
	return nil
}

// Raw is one split as stored: 8-bit pixels [N, H, W] and labels [N].
type Raw struct {
	Pixels  []byte
	Labels  []byte
	N, H, W int
}

// ReadSplit reads and checks a split's images and labels from dir: images
// must be 3-dimensional, labels 1-dimensional, their counts equal and every
// label below Classes.
func ReadSplit(dir string, split Split) (*Raw, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	imgPath, err := findFile(dir, split, "images")
	if err != nil {
		return nil, err
	}
	lblPath, err := findFile(dir, split, "labels")
	if err != nil {
		return nil, err
	}
	// The two files decode in parallel; images dominate.
	type result struct {
		idx *IDX
		err error
	}
	lblc := make(chan result, 1)
	go func() {
		idx, err := ReadIDXFile(lblPath)
		lblc <- result{idx, err}
	}()
	img, ierr := ReadIDXFile(imgPath)
	lbl := <-lblc
	if ierr != nil {
		return nil, ierr
	}
	if lbl.err != nil {
		return nil, lbl.err
	}
	return checkSplit(imgPath, img, lblPath, lbl.idx)
}

// checkSplit validates decoded images and labels against each other.
func checkSplit(imgPath string, img *IDX, lblPath string, lbl *IDX) (*Raw, error) {
	if len(img.Dims) != 3 {
		return nil, corrupt(imgPath, "images need 3 dimensions [N H W], header has %d %v", len(img.Dims), img.Dims)
	}
	if len(lbl.Dims) != 1 {
		return nil, corrupt(lblPath, "labels need 1 dimension [N], header has %d %v", len(lbl.Dims), lbl.Dims)
	}
	n, h, w := img.Dims[0], img.Dims[1], img.Dims[2]
	if h == 0 || w == 0 {
		return nil, corrupt(imgPath, "empty images %dx%d", h, w)
	}
	if lbl.Dims[0] != n {
		return nil, corrupt(lblPath, "%d labels for the %d images of %s", lbl.Dims[0], n, filepath.Base(imgPath))
	}
	for i, l := range lbl.Data {
		if l >= Classes {
			return nil, corrupt(lblPath, "label %d of example %d is not below %d classes", l, i, Classes)
		}
	}
	return &Raw{Pixels: img.Data, Labels: lbl.Data, N: n, H: h, W: w}, nil
}
