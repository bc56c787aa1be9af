// Package latency measures a network's batch-1 inference latency on the
// machine it runs on, the way the search needs it (MnasNet's real-device
// latency): a chosen thread count (one by default), the calling thread
// pinned to one CPU where the OS allows, warm-up runs, then the median and
// 90th percentile of many timed runs with the garbage collector kept out of
// the timed region.
//
// [Local] measures here; [Client] asks a [Server] (`nasrun latency-server`,
// typically on a phone or board) over HTTP. Both implement [Measurer], so
// the search takes either. A [Table] is a per-block lookup table built on
// the device: it measures each distinct block of a genome ([nas.Layer.Key])
// in isolation, plus the stem and the head, and predicts a genome's latency
// as the sum, for cheap pre-screening; [Table.Evaluate] reports its error
// against measured latency.
//
// Networks built from a genome get random weights from a fixed seed and
// batch-norm running statistics calibrated on random input (a few
// training-mode passes), so that no layer sees degenerate values; latency
// does not depend on the trained weights.
package latency
