// Command inputstable rewrites the inputs table of a README from the inputs
// table of internal/config, between the markers config.ReadmeBegin and
// config.ReadmeEnd. scripts/readme-inputs runs it on README.md.
//
//	go run ./internal/config/inputstable README.md
package main

import (
	"fmt"
	"os"

	"github.com/bluegreen-dev/bluegreen-action/internal/config"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: inputstable README.md")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "inputstable: %v\n", err)
		os.Exit(1)
	}
}

func run(path string) error {
	readme, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := config.WriteReadmeTable(readme)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}
