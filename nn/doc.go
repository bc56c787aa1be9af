// Package nn is nasrun's layer library: thin modules over the autograd
// ops, the search space's blocks (SEBlock, GhostModule, GhostBottleneck,
// MBConv), whole networks with save/load, losses, optimizers and
// learning-rate schedules. nas.Build assembles a Network from a genome.
//
// # Modules
//
// A [Module] has a Forward over a [Ctx] (the tape, train/eval mode and the
// dropout random source) and a Visit that names its state: parameters
// ([Entry.Param] non-nil) and buffers (BN running statistics and
// num_batches_tracked). Names are PyTorch's state_dict names for the same
// module tree ("net.3.body.0.weight"). Mode is per call: Ctx.Train selects
// batch statistics (and updates the running statistics with momentum 0.1
// and the unbiased batch variance, as PyTorch) and active dropout; eval
// uses running statistics and no dropout. Gradients are the tape's
// business: a tape with SetGrad(false) runs inference without recording.
//
// # Layouts and PyTorch
//
// Activations are NHWC. Weights are stored for the kernels: dense conv
// [KH,KW,Cin,Cout], depthwise [K,K,C], linear [In,Out]. [Network.StateDict],
// [Network.Save] and [Network.Load] convert at the edge to PyTorch's
// layout — conv OIHW [Cout,Cin,KH,KW], depthwise [C,1,K,K], linear
// [Out,In], the SE block's 1×1 convs [Out,In,1,1], num_batches_tracked an
// int64 scalar — so a saved file is exactly the PyTorch module's
// state_dict in safetensors form (safetensors.torch.load_file, then
// load_state_dict(strict=True)), and a PyTorch state_dict saved that way
// loads here. A file that does not match the architecture is refused with
// every name and shape that differs. Writes are atomic.
//
// # Training
//
// [CrossEntropy] (label smoothing) and [Accuracy]; [SGD] and [AdamW]
// follow torch.optim's update rules exactly and allocate nothing per step;
// [OneCycle] is torch's OneCycleLR with its defaults, momentum cycling
// included, and [Cosine] is cosine annealing with warm-up; [ClipGradNorm]
// is clip_grad_norm_. A step:
//
//	tp := autograd.NewTape()
//	ctx := &nn.Ctx{Tape: tp, Train: true, Rng: rng}
//	opt := nn.NewSGD(net.ParamVars(), 0.1, 0.9, 4e-5, true)
//	sched := nn.NewOneCycle(0.2, steps)
//	for step := range steps {
//		tp.Reset()
//		logits := net.Forward(ctx, tp.Input(images))
//		loss := nn.CrossEntropy(ctx, logits, labels, 0.1)
//		net.ZeroGrad()
//		if err := tp.Backward(loss); err != nil { … }
//		nn.Apply(sched, opt, step)
//		opt.Step()
//	}
//
// # Fused blocks
//
// In training mode an [MBConv] or [GhostBottleneck] runs as one
// autograd.Block op instead of its layers' ops: the convolutions apply the
// previous batch norm and activation as they load their input and take
// their output's batch statistics as they store it, image chunk by image
// chunk in the L2 cache, and only the convolutions' raw outputs are kept
// for the backward pass (kernels.Block describes the passes). The
// arithmetic is the same, to rounding; the step reads and writes main
// memory about half as often. [SetFusedBlocks] turns it off, for
// comparisons; a Ghost module of odd width, which cuts its concatenation,
// runs op by op.
//
// # Inference
//
// [Network.Inference] compiles a trained network into a [Plan]: BN folded
// into the preceding convolution's weights and bias, activations fused
// into the convolution kernels, dropout removed, buffers preallocated by a
// first run. Plan.Run(x) returns the logits without allocating; it is what
// latency measurement calls (with kernels.SetThreads(1) for batch-1
// latency).
package nn
