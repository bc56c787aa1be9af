package safetensors_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nasrun/nasrun/safetensors"
)

func Example() {
	dir, _ := os.MkdirTemp("", "st")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")
	err := safetensors.Save(path, map[string]safetensors.Tensor{
		"fc.weight":              {Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
		"bn.num_batches_tracked": {Shape: []int{}, Data: []float32{100}, DType: safetensors.I64},
	}, map[string]string{"format": "pt"})
	if err != nil {
		panic(err)
	}
	tensors, meta, err := safetensors.Load(path)
	if err != nil {
		panic(err)
	}
	w := tensors["fc.weight"]
	fmt.Println(w.Shape, w.Data, w.DType, meta["format"])
	// Output: [2 3] [1 2 3 4 5 6] F32 pt
}
