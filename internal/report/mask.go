package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync"
)

// Masked is what a credential is written as.
const Masked = "***"

// Masker replaces credentials with *** in text. Each reporter keeps one
// and passes everything it writes through it (log lines, errors on
// stderr, outputs, the summary, the result file), so that a credential
// never reaches what the CI keeps even where the CI does not mask. The
// zero value masks nothing and is ready for use; it is safe for use by
// several goroutines.
type Masker struct {
	mu         sync.Mutex
	all        []string
	textMasker *strings.Replacer
	jsonMasker *strings.Replacer
}

// Add remembers secret. Each line of a multi-line secret is also masked
// alone, as a CI runner would, in case a line of it is printed by itself.
// Blank secrets are ignored: masking them would hide every blank.
func (m *Masker) Add(secret string) {
	candidates := []string{strings.TrimSuffix(secret, "\n")}
	if strings.ContainsAny(secret, "\r\n") {
		for line := range strings.SplitSeq(strings.ReplaceAll(secret, "\r\n", "\n"), "\n") {
			candidates = append(candidates, strings.TrimSuffix(line, "\r"))
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	added := false
	for _, c := range candidates {
		if strings.TrimSpace(c) == "" || slices.Contains(m.all, c) {
			continue
		}
		m.all = append(m.all, c)
		added = true
	}
	if added {
		m.build()
	}
}

// build makes the replacers. strings.Replacer tries its patterns in order
// at each position, so longer patterns go first: a secret that contains
// another must be masked whole, not around the shorter one.
func (m *Masker) build() {
	var text, js []string
	for _, secret := range m.all {
		text = append(text, secret)
		// Inside JSON strings a secret holding quotes, backslashes or
		// control characters appears escaped; its raw form could only
		// match the file's own syntax.
		js = append(js, JSONString(secret))
	}
	m.textMasker = replacer(text)
	m.jsonMasker = replacer(js)
}

// replacer replaces each of patterns, longest first, with ***.
func replacer(patterns []string) *strings.Replacer {
	slices.SortStableFunc(patterns, func(a, b string) int { return len(b) - len(a) })
	var oldnew []string
	for _, p := range patterns {
		oldnew = append(oldnew, p, Masked)
	}
	return strings.NewReplacer(oldnew...)
}

// Text returns s with every credential replaced by ***.
func (m *Masker) Text(s string) string {
	m.mu.Lock()
	r := m.textMasker
	m.mu.Unlock()
	if r == nil {
		return s
	}
	return r.Replace(s)
}

// JSON returns b, a JSON document written with NewJSONEncoder, with every
// credential inside its strings replaced by ***.
func (m *Masker) JSON(b []byte) []byte {
	m.mu.Lock()
	r := m.jsonMasker
	m.mu.Unlock()
	if r == nil {
		return b
	}
	return []byte(r.Replace(string(b)))
}

// NewJSONEncoder is the one encoder configuration of JSON a reporter
// writes, shared with the masker so that it finds credentials in the form
// the document holds them.
func NewJSONEncoder(b *bytes.Buffer) *json.Encoder {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	return enc
}

// JSONString returns s as it appears inside a JSON string written with
// NewJSONEncoder, without the quotes.
func JSONString(s string) string {
	var b bytes.Buffer
	if err := NewJSONEncoder(&b).Encode(s); err != nil {
		return s
	}
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(b.String(), "\n"), `"`), `"`)
}
