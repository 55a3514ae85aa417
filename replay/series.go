package replay

// series keeps a plot's points in fixed memory: when full, it halves its
// resolution by averaging neighbouring buckets, so any bag length fits.
type series struct {
	sum   [512]float64
	count [512]int
	n     int // buckets used
	per   int // samples per bucket
	fill  int // samples in the last bucket
}

func (s *series) add(v float64) {
	if s.per == 0 {
		s.per = 1
	}
	if s.n == 0 || s.fill == s.per {
		if s.n == len(s.sum) {
			for i := 0; i < s.n/2; i++ {
				s.sum[i] = s.sum[2*i] + s.sum[2*i+1]
				s.count[i] = s.count[2*i] + s.count[2*i+1]
			}
			s.n /= 2
			s.per *= 2
			s.fill = s.per // the last merged bucket is full
			s.add(v)
			return
		}
		s.sum[s.n], s.count[s.n] = 0, 0
		s.n++
		s.fill = 0
	}
	s.sum[s.n-1] += v
	s.count[s.n-1]++
	s.fill++
}

// points returns the bucket means and the samples per bucket.
func (s *series) points() ([]float64, int) {
	out := make([]float64, s.n)
	for i := range out {
		out[i] = s.sum[i] / float64(s.count[i])
	}
	return out, s.per
}
