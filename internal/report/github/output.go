package github

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// delimiterPrefix starts every heredoc delimiter, as in the toolkit's
// core.setOutput, so the file reads the same as other actions'.
const delimiterPrefix = "ghadelimiter_"

// maxDelimiterTries bounds the search for a delimiter a value does not
// contain; with 128 random bits a second try is already vanishingly rare,
// so running out means the random source is broken.
const maxDelimiterTries = 8

// encodeOutputs renders outputs in the runner's heredoc form,
//
//	name<<DELIMITER
//	value
//	DELIMITER
//
// with a fresh random delimiter per value, drawn again if the value holds
// it. The runner ends a value at the first line equal to its delimiter, so
// a value that could contain the delimiter could end early and forge the
// outputs after it.
func encodeOutputs(outputs [][2]string, random io.Reader) ([]byte, error) {
	var b bytes.Buffer
	for _, o := range outputs {
		name, value := o[0], o[1]
		if !validName(name) {
			return nil, fmt.Errorf("output name %q is not a valid name", name)
		}
		delim, err := delimiter(value, random)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", name, err)
		}
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
	}
	return b.Bytes(), nil
}

func delimiter(value string, random io.Reader) (string, error) {
	buf := make([]byte, 16)
	for range maxDelimiterTries {
		if _, err := io.ReadFull(random, buf); err != nil {
			return "", fmt.Errorf("reading a random delimiter: %w", err)
		}
		if d := delimiterPrefix + hex.EncodeToString(buf); !strings.Contains(value, d) {
			return d, nil
		}
	}
	return "", errors.New("every random delimiter drawn occurs in the value")
}

// validName keeps names to what a workflow can reference as
// steps.<id>.outputs.<name>; a name holding "=", "<<" or a newline would
// also change how the runner splits the line.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && (c == '-' || '0' <= c && c <= '9'):
		default:
			return false
		}
	}
	return true
}
