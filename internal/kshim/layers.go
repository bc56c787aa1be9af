package kshim

import "math"

// GlobalAvgPool sets y[n,c] = mean over hw pixels of x[n,·,c].
func GlobalAvgPool(n, hw, c int, x, y []float32) {
	inv := 1 / float32(hw)
	for i := range n {
		clear(y[i*c : (i+1)*c])
		for p := range hw {
			for j := range c {
				y[i*c+j] += x[(i*hw+p)*c+j]
			}
		}
		for j := range c {
			y[i*c+j] *= inv
		}
	}
}

// GlobalAvgPoolBackward sets dx[n,p,c] = dy[n,c]/hw.
func GlobalAvgPoolBackward(n, hw, c int, dy, dx []float32) {
	inv := 1 / float32(hw)
	for i := range n {
		for p := range hw {
			for j := range c {
				dx[(i*hw+p)*c+j] = dy[i*c+j] * inv
			}
		}
	}
}

// BatchNormTrain normalises x (rows×c) with its batch statistics, writing
// the mean and the biased variance.
func BatchNormTrain(rows, c int, eps float32, x, gamma, beta, y, mean, variance []float32) {
	for j := range c {
		var s, ss float64
		for r := range rows {
			v := float64(x[r*c+j])
			s += v
			ss += v * v
		}
		m := s / float64(rows)
		mean[j] = float32(m)
		variance[j] = float32(max(ss/float64(rows)-m*m, 0))
	}
	BatchNormInfer(rows, c, eps, x, gamma, beta, mean, variance, y)
}

// BatchNormInfer normalises x with the given statistics.
func BatchNormInfer(rows, c int, eps float32, x, gamma, beta, runMean, runVar, y []float32) {
	for j := range c {
		inv := float32(1 / math.Sqrt(float64(runVar[j]+eps)))
		sc := gamma[j] * inv
		sh := beta[j] - runMean[j]*sc
		for r := range rows {
			y[r*c+j] = x[r*c+j]*sc + sh
		}
	}
}

// BatchNormBackward computes dx, dgamma and dbeta of BatchNormTrain.
func BatchNormBackward(rows, c int, eps float32, x, gamma, mean, variance, dy, dx, dgamma, dbeta []float32) {
	for j := range c {
		inv := 1 / math.Sqrt(float64(variance[j]+eps))
		var sdy, sdyx float64
		for r := range rows {
			g := float64(dy[r*c+j])
			sdy += g
			sdyx += g * (float64(x[r*c+j]) - float64(mean[j])) * inv
		}
		if dgamma != nil {
			dgamma[j] = float32(sdyx)
		}
		if dbeta != nil {
			dbeta[j] = float32(sdy)
		}
		if dx != nil {
			k := float64(gamma[j]) * inv / float64(rows)
			for r := range rows {
				xh := (float64(x[r*c+j]) - float64(mean[j])) * inv
				dx[r*c+j] = float32(k * (float64(rows)*float64(dy[r*c+j]) - sdy - xh*sdyx))
			}
		}
	}
}
