package data_test

import (
	"fmt"

	"github.com/nasrun/nasrun/data"
)

// A training epoch: the loader fills the next batch on its goroutine while
// the loop body (the training step) runs on the current one.
func ExampleLoader() {
	ds := &data.Dataset{
		Images: make([]float32, 10*4*4), Labels: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		N: 10, H: 4, W: 4, C: 1, Stats: data.FashionMNISTStats,
	}
	l, err := data.NewLoader(ds, data.LoaderConfig{
		BatchSize: 4, Shuffle: true, Seed: 1,
		Augment: data.Augment{Flip: true, Pad: 2},
	})
	if err != nil {
		panic(err)
	}
	for b := range l.Epoch(0) {
		fmt.Println(b.Step, b.N, len(b.Images))
	}
	// Output:
	// 0 4 64
	// 1 4 64
	// 2 2 32
}

// Loading Fashion-MNIST with a 5,000-image validation split, normalised with
// statistics computed from the remaining training images.
func ExampleLoad() {
	s, err := data.Load(data.Config{
		Dir:        data.Dir(""), // the CLI passes its --data flag here
		Validation: 5000,
		Seed:       1,
	})
	if err != nil {
		fmt.Println(err) // says how to install the data or point --data elsewhere
		return
	}
	fmt.Println(s.Train.N, s.Val.N, s.Test.N)
}
