package github

import (
	"sync"
)

// counter is a predictable random source: 0x00, 0x01, 0x02, ...
type counter struct {
	mu   sync.Mutex
	next byte
}

func (c *counter) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range p {
		p[i] = c.next
		c.next++
	}
	return len(p), nil
}

// env is a fake environment for WithGetenv.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}
