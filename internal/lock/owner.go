package lock

import (
	"os"
	"strconv"
)

// Owner names a run in the deploy lock, so that a run refused the lock can
// say who holds it: the link to the CI run when there is one (the run-url
// input or what the CI tells), else this machine and process.
func Owner(runURL string) string {
	if runURL != "" {
		return runURL
	}
	host, _ := os.Hostname()
	return host + " pid " + strconv.Itoa(os.Getpid())
}
