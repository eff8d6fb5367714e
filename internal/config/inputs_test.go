package config

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
)

// TestInputsMatchAction holds the inputs table, which help and the README
// are made from, to action.yml and to Config: the same inputs, defaults and
// descriptions. TestActionInputsMatchConfig holds action.yml to Config.
func TestInputsMatchAction(t *testing.T) {
	t.Parallel()
	action := readActionInputs(t)
	tags := make(map[string]tagInput)
	walkEnvTags(t, reflect.TypeFor[Config](), "", "Config", tags)

	table := make(map[string]Input)
	for _, in := range inputs {
		if _, dup := table[in.Name]; dup {
			t.Errorf("input %q: twice in the inputs table", in.Name)
		}
		table[in.Name] = in
	}

	for _, name := range slices.Sorted(maps.Keys(action)) {
		a := action[name]
		desc, _ := a["description"].(string)
		def, _ := a["default"].(string)
		in, ok := table[name]
		if !ok {
			t.Errorf("input %q: in action.yml, not in the inputs table of inputs.go; add (and set its commands):\n%s",
				name, goRow(Input{Name: name, Default: def, Description: fold(desc)}))
			continue
		}
		if got, want := in.Default, def; got != want {
			t.Errorf("input %q: inputs table default %q, action.yml %q", name, got, want)
		}
		if got, want := fold(in.Description), fold(desc); got != want {
			t.Errorf("input %q: inputs table and action.yml describe it differently; action.yml says:\n%s", name, goRow(Input{Name: name, Default: def, Description: want}))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(table)) {
		if _, ok := action[name]; !ok {
			t.Errorf("input %q: in the inputs table, not in action.yml", name)
		}
		if _, ok := tags[name]; !ok {
			t.Errorf("input %q: in the inputs table, no env tag of Config reads it", name)
		}
		in := table[name]
		if len(in.Commands) == 0 {
			t.Errorf("input %q: the inputs table names no command that reads it", name)
		}
		for _, c := range in.Commands {
			if !c.Known() {
				t.Errorf("input %q: unknown command %q, valid commands are %q", name, c, command.All())
			}
		}
		// The variable is what Lookuper reads.
		key := strings.TrimPrefix(in.Env(), "BLUEGREEN_")
		if got, want := InputName(key), name; got != want {
			t.Errorf("input %q: variable %s names input %q", name, in.Env(), got)
		}
		if v, ok := Lookuper(func(k string) string { return map[string]string{in.Env(): "x"}[k] }).Lookup(key); !ok || v != "x" {
			t.Errorf("input %q: Lookuper does not read %s", name, in.Env())
		}
	}
}

// fold is a description as YAML's folded style (>-) reads it, so that a
// literal block or a different line break compares equal.
func fold(s string) string { return strings.Join(strings.Fields(s), " ") }

// goRow prints an inputs table row to paste into inputs.go.
func goRow(in Input) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\t{\n\t\tName:        %q,\n", in.Name)
	if in.Default != "" {
		fmt.Fprintf(&b, "\t\tDefault:     %q,\n", in.Default)
	}
	b.WriteString("\t\tCommands:    cmds(\"deploy\"),\n\t\tDescription: ")
	lines := wrap(in.Description, 76)
	for i, l := range lines {
		if i < len(lines)-1 {
			l += " "
		}
		if i > 0 {
			b.WriteString(" +\n\t\t\t")
		}
		fmt.Fprintf(&b, "%q", l)
	}
	b.WriteString(",\n\t},")
	return b.String()
}

// TestReadmeInputsTable fails while README.md's inputs table is not the
// one scripts/readme-inputs writes from the inputs table.
func TestReadmeInputsTable(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := WriteReadmeTable(readme)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(readme) {
		t.Errorf("README.md's inputs table differs from the inputs table; run scripts/readme-inputs")
	}
	for _, in := range inputs {
		row := fmt.Sprintf("| `%s` | `%s` |", in.Name, in.Env())
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md has no row for input %q", in.Name)
		}
	}
}

func TestWriteReadmeTable(t *testing.T) {
	t.Parallel()
	in := "# x\n\n" + ReadmeBegin + "\n| old |\n" + ReadmeEnd + "\n\nafter\n"
	got, err := WriteReadmeTable([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := "# x\n\n" + ReadmeBegin + "\n" + ReadmeTable() + ReadmeEnd + "\n\nafter\n"
	if string(got) != want {
		t.Errorf("WriteReadmeTable = %q, want %q", got, want)
	}
	if _, err := WriteReadmeTable([]byte("no markers")); err == nil {
		t.Error("WriteReadmeTable without markers: no error")
	}
	// A pipe in a description must not split its cell.
	if got, want := cell("a | b\n c"), `a \| b c`; got != want {
		t.Errorf("cell = %q, want %q", got, want)
	}
}

// TestHelpListsInputs reads each command's help back: exactly the inputs
// that command reads, each with both spellings, its default and its
// description.
func TestHelpListsInputs(t *testing.T) {
	t.Parallel()
	for _, c := range append([]command.Name{""}, command.All()...) {
		var b strings.Builder
		if err := WriteHelp(&b, c); err != nil {
			t.Fatalf("WriteHelp(%q): %v", c, err)
		}
		got := parseHelp(t, b.String())
		want := inputs
		if c != "" {
			want = InputsOf(c)
		}
		if len(want) == 0 {
			t.Errorf("command %q reads no input", c)
		}
		var gotNames, wantNames []string
		for _, e := range got {
			gotNames = append(gotNames, e.name)
		}
		for _, in := range want {
			wantNames = append(wantNames, in.Name)
		}
		if !slices.Equal(gotNames, wantNames) {
			t.Errorf("help %q lists inputs %q, want %q", c, gotNames, wantNames)
			continue
		}
		for i, in := range want {
			e := got[i]
			head := in.Name + " / " + in.Env()
			if !strings.HasPrefix(e.head, head) {
				t.Errorf("help %q: heading %q, want it to start %q", c, e.head, head)
			}
			if hasDefault := strings.Contains(e.head, "default "+in.Default); in.Default != "" && !hasDefault {
				t.Errorf("help %q: heading %q does not give the default %q", c, e.head, in.Default)
			}
			if got, want := e.desc, fold(in.Description); got != want {
				t.Errorf("help %q, input %q: description\n%q, want\n%q", c, in.Name, got, want)
			}
		}
	}
	if err := WriteHelp(&strings.Builder{}, "destroy"); !IsInputError(err) {
		t.Errorf("WriteHelp(destroy) = %v, want an input error", err)
	}
}

type helpEntry struct{ name, head, desc string }

// parseHelp reads the inputs section of help text: a heading indented two
// spaces, then description lines indented six.
func parseHelp(t *testing.T, text string) []helpEntry {
	t.Helper()
	_, section, ok := strings.Cut(text, "\nInputs")
	if !ok {
		t.Fatalf("help has no inputs section:\n%s", text)
	}
	var out []helpEntry
	for _, line := range strings.Split(section, "\n")[1:] {
		switch {
		case strings.HasPrefix(line, "      "):
			if len(out) == 0 {
				t.Fatalf("description before any input: %q", line)
			}
			e := &out[len(out)-1]
			e.desc = strings.TrimSpace(e.desc + " " + strings.TrimSpace(line))
		case strings.HasPrefix(line, "  "):
			head := strings.TrimSpace(line)
			name, _, _ := strings.Cut(head, " ")
			out = append(out, helpEntry{name: name, head: head})
		}
	}
	return out
}

func TestWrap(t *testing.T) {
	t.Parallel()
	got := wrap("aa bb cc "+strings.Repeat("x", 12)+" dd", 8)
	want := []string{"aa bb cc", strings.Repeat("x", 12), "dd"}
	if !slices.Equal(got, want) {
		t.Errorf("wrap = %q, want %q", got, want)
	}
}
