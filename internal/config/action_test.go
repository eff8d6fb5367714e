package config

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// tagInput is what an env tag of Config says about one input.
type tagInput struct {
	Field      string // Go path, for messages: Config.Kubernetes.Namespace
	HasDefault bool
	Default    string
}

// TestActionInputsMatchConfig keeps action.yml, which users read, and
// Config, which the binary reads, from drifting apart: the same inputs and
// the same defaults.
func TestActionInputsMatchConfig(t *testing.T) {
	t.Parallel()

	inputs := readActionInputs(t)
	tags := make(map[string]tagInput)
	walkEnvTags(t, reflect.TypeFor[Config](), "", "Config", tags)
	if len(tags) == 0 {
		t.Fatal("found no env tags in Config")
	}

	for _, name := range slices.Sorted(maps.Keys(tags)) {
		if _, ok := inputs[name]; !ok {
			t.Errorf("input %q: %s reads it, action.yml does not declare it", name, tags[name].Field)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(inputs)) {
		if _, ok := tags[name]; !ok {
			t.Errorf("input %q: action.yml declares it, no env tag of Config reads it", name)
		}
	}

	known := map[string]bool{"description": true, "required": true, "default": true, "deprecationMessage": true}
	for _, name := range slices.Sorted(maps.Keys(inputs)) {
		in := inputs[name]
		for k := range in {
			if !known[k] {
				// A misspelt `defualt` would be ignored by the runner.
				t.Errorf("input %q: unknown key %q in action.yml", name, k)
			}
		}
		if d, _ := in["description"].(string); strings.TrimSpace(d) == "" {
			t.Errorf("input %q: action.yml has no description", name)
		}
		// The runner never enforces `required`; the binary does, naming the
		// input. Saying false keeps readers from relying on the runner.
		if r, ok := in["required"].(bool); !ok || r {
			t.Errorf("input %q: action.yml must say `required: false`, has %v", name, in["required"])
		}

		tag, ok := tags[name]
		if !ok {
			continue // reported by the set comparison above
		}
		def, hasDefault := in["default"]
		switch {
		case !hasDefault && tag.HasDefault:
			t.Errorf("input %q: %s has default %q, action.yml has none", name, tag.Field, tag.Default)
		case hasDefault && !tag.HasDefault:
			t.Errorf("input %q: action.yml has default %v, %s has none (describe a computed default in the description)", name, def, tag.Field)
		case hasDefault:
			s, isString := def.(string)
			if !isString {
				t.Errorf("input %q: action.yml default %v is a YAML %T, quote it", name, def, def)
				continue
			}
			if s != tag.Default {
				t.Errorf("input %q: action.yml default is %q, %s has %q", name, s, tag.Field, tag.Default)
			}
		}
	}
}

// readActionInputs returns the inputs of the repository's action.yml, each
// as the raw map of its keys.
func readActionInputs(t *testing.T) map[string]map[string]any {
	t.Helper()
	path := filepath.Join("..", "..", "action.yml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading action.yml: %v", err)
	}
	var action struct {
		Inputs map[string]map[string]any `json:"inputs"`
	}
	if err := yaml.Unmarshal(b, &action); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	if len(action.Inputs) == 0 {
		t.Fatalf("%s declares no inputs", path)
	}
	return action.Inputs
}

// walkEnvTags records every input of struct type typ into out, keyed by the
// name a workflow uses (WAIT_TIMEOUT is wait-timeout). It follows the rules
// of go-envconfig: a struct field without a key of its own is walked, with
// the prefix= of its tag if any.
func walkEnvTags(t *testing.T, typ reflect.Type, prefix, path string, out map[string]tagInput) {
	t.Helper()
	for i := range typ.NumField() {
		f := typ.Field(i)
		field := path + "." + f.Name
		tag, tagged := f.Tag.Lookup("env")
		if !f.IsExported() {
			if tagged {
				t.Errorf("%s: env tag on an unexported field", field)
			}
			continue
		}
		key, opts := parseEnvTag(t, field, tag)

		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && key == "" {
			walkEnvTags(t, ft, prefix+opts["prefix"], field, out)
			continue
		}
		if key == "" {
			continue
		}

		name := InputName(prefix + key)
		if prev, dup := out[name]; dup {
			t.Errorf("input %q is read by both %s and %s", name, prev.Field, field)
		}
		def, hasDefault := opts["default"]
		out[name] = tagInput{Field: field, HasDefault: hasDefault, Default: def}
	}
}

// parseEnvTag splits an env tag into its key and options as go-envconfig
// does: options are comma-separated, and `default=` takes the rest of the
// tag, commas included.
func parseEnvTag(t *testing.T, field, tag string) (key string, opts map[string]string) {
	t.Helper()
	if strings.Contains(tag, `\`) {
		t.Fatalf("%s: env tag %q has an escape, which parseEnvTag does not handle", field, tag)
	}
	key, rest, _ := strings.Cut(tag, ",")
	opts = make(map[string]string)
	for rest != "" {
		rest = strings.TrimLeft(rest, " ")
		if _, ok := cutPrefixFold(rest, "default="); ok {
			opts["default"] = rest[len("default="):]
			break
		}
		seg, next, _ := strings.Cut(rest, ",")
		if v, ok := cutPrefixFold(seg, "prefix="); ok {
			opts["prefix"] = v
		} else if seg = strings.TrimSpace(seg); seg != "" {
			opts[strings.ToLower(seg)] = ""
		}
		rest = next
	}
	return strings.TrimSpace(key), opts
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}

// TestParseEnvTag pins the tag rules that TestActionInputsMatchConfig
// relies on.
func TestParseEnvTag(t *testing.T) {
	t.Parallel()
	cases := []struct {
		tag  string
		key  string
		opts map[string]string
	}{
		{tag: "APP", key: "APP", opts: map[string]string{}},
		{tag: "WAIT_TIMEOUT, default=10m", key: "WAIT_TIMEOUT", opts: map[string]string{"default": "10m"}},
		{tag: "HOSTS, required, default=a, b", key: "HOSTS", opts: map[string]string{"required": "", "default": "a, b"}},
		{tag: ",prefix=AWS_", key: "", opts: map[string]string{"prefix": "AWS_"}},
	}
	for _, tc := range cases {
		key, opts := parseEnvTag(t, "Field", tc.tag)
		if got, want := key, tc.key; got != want {
			t.Errorf("parseEnvTag(%q) key = %q, want %q", tc.tag, got, want)
		}
		if diff := cmp.Diff(tc.opts, opts); diff != "" {
			t.Errorf("parseEnvTag(%q) options (-want +got):\n%s", tc.tag, diff)
		}
	}
}

// TestActionDescriptionFitsMarketplace: the Marketplace shows at most 125
// characters of an action's description.
func TestActionDescriptionFitsMarketplace(t *testing.T) {
	t.Parallel()
	for _, path := range []string{filepath.Join("..", "..", "action.yml")} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var action struct {
			Description string `json:"description"`
		}
		if err := yaml.Unmarshal(b, &action); err != nil {
			t.Fatalf("parsing %s: %v", path, err)
		}
		if n := len(action.Description); n == 0 || n >= 125 {
			t.Errorf("%s: description is %d characters, want 1 to 124: %q", path, n, action.Description)
		}
	}
}
