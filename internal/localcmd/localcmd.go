// Package localcmd runs a user's command on the machine bluegreen runs on
// (the CI runner), its output streamed line by line into the CI log. No
// shell is involved: the command is a list of words.
package localcmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// tailLines is how many of the last lines of a failed command the error
// carries.
const tailLines = 10

// Run runs args with the process's environment plus env, sends each line
// of its output to log as it comes, and returns when it ended. A non-zero
// exit is an error carrying the last lines of output.
func Run(ctx context.Context, args, env []string, log func(string)) error {
	if len(args) == 0 {
		return errors.New("no command given")
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	// A child the command leaves running may hold its output open; do
	// not wait for it past the command's own exit.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %q: %w", args[0], err)
	}
	var tail []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := bufio.NewScanner(pr)
		s.Buffer(make([]byte, 64*1024), 1024*1024)
		for s.Scan() {
			log(s.Text())
			tail = append(tail, s.Text())
			if len(tail) > tailLines {
				tail = tail[1:]
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err := cmd.Wait()
	pw.Close()
	wg.Wait()
	if err != nil {
		msg := fmt.Sprintf("%q: %v", strings.Join(args, " "), err)
		if len(tail) > 0 {
			msg += "; last lines:\n" + strings.Join(tail, "\n")
		}
		return errors.New(msg)
	}
	return nil
}
