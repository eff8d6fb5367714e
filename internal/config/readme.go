package config

import (
	"bytes"
	"fmt"
	"strings"
)

// The markers around the README's inputs table, which scripts/readme-inputs
// writes from the inputs table.
const (
	ReadmeBegin = "<!-- inputs: begin; written by scripts/readme-inputs from internal/config/inputs.go -->"
	ReadmeEnd   = "<!-- inputs: end -->"
)

// ReadmeTable is the inputs table for the README, in Markdown: every input
// with both spellings, its default, the commands that read it and its
// description.
func ReadmeTable() string {
	var b strings.Builder
	b.WriteString("| input | variable | default | commands | description |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, in := range inputs {
		def := ""
		if in.Default != "" {
			def = "`" + in.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s |\n", in.Name, in.Env(), def,
			commandList(in.Commands), cell(in.Description))
	}
	return b.String()
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", `\|`)
}

// WriteReadmeTable returns readme with the text between ReadmeBegin and
// ReadmeEnd replaced by ReadmeTable.
func WriteReadmeTable(readme []byte) ([]byte, error) {
	begin := bytes.Index(readme, []byte(ReadmeBegin))
	end := bytes.Index(readme, []byte(ReadmeEnd))
	if begin < 0 || end < begin {
		return nil, fmt.Errorf("finding the markers %q and %q, in that order", ReadmeBegin, ReadmeEnd)
	}
	var out bytes.Buffer
	out.Write(readme[:begin+len(ReadmeBegin)])
	out.WriteString("\n" + ReadmeTable())
	out.Write(readme[end:])
	return out.Bytes(), nil
}
