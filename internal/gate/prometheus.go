package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Prometheus fails when a PromQL query returns a sample whose value is not
// zero, e.g. sum(rate(haproxy_server_http_responses_total{code="5xx"}[30s])) > 1.
type Prometheus struct {
	// URL is the Prometheus server, e.g. http://prometheus:9090.
	URL   string
	Query string
	// Client makes the HTTP calls; a 10 s timeout by default.
	Client *http.Client
}

var _ Gate = (*Prometheus)(nil)

func (p *Prometheus) String() string { return "prometheus " + p.Query }

// Validate runs the query once: Prometheus parses it and refuses a bad
// one with errorType bad_data.
func (p *Prometheus) Validate(ctx context.Context) error {
	_, err := p.Check(ctx)
	return err
}

// promAnswer is the envelope of Prometheus' HTTP API.
type promAnswer struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// Check runs the query as an instant query.
func (p *Prometheus) Check(ctx context.Context) (Reading, error) {
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	u := strings.TrimRight(p.URL, "/") + "/api/v1/query?" + url.Values{"query": {p.Query}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Reading{}, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Reading{}, fmt.Errorf("%w: querying Prometheus at %s: %v", ErrUnreachable, p.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return Reading{}, fmt.Errorf("%w: reading Prometheus' answer: %v", ErrUnreachable, err)
	}
	var a promAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return Reading{}, fmt.Errorf("%w: %s answered %s, not Prometheus' API: %.100q", ErrUnreachable, p.URL, resp.Status, body)
	}
	if a.Status != "success" {
		if a.ErrorType == "bad_data" {
			return Reading{}, fmt.Errorf("%w %q: %s", ErrBadQuery, p.Query, a.Error)
		}
		return Reading{}, fmt.Errorf("querying Prometheus: %s: %s", a.ErrorType, a.Error)
	}
	return readResult(a.Data.ResultType, a.Data.Result)
}

func readResult(kind string, raw json.RawMessage) (Reading, error) {
	var samples []sample
	switch kind {
	case "vector":
		if err := json.Unmarshal(raw, &samples); err != nil {
			return Reading{}, fmt.Errorf("reading a vector: %w", err)
		}
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(raw, &v); err != nil {
			return Reading{}, fmt.Errorf("reading a scalar: %w", err)
		}
		samples = []sample{{Value: v}}
	default:
		return Reading{}, fmt.Errorf("%w: the query returns a %s; a gate needs an instant vector or a scalar", ErrBadQuery, kind)
	}
	if len(samples) == 0 {
		return Reading{Value: "no samples"}, nil
	}
	var parts []string
	failing := false
	for _, s := range samples {
		text, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return Reading{}, fmt.Errorf("reading sample value %q: %w", text, err)
		}
		// NaN is not zero: a gate that cannot tell does not pass.
		if v != 0 || math.IsNaN(v) {
			failing = true
		}
		parts = append(parts, labels(s.Metric)+text)
	}
	sort.Strings(parts)
	return Reading{Value: strings.Join(parts, ", "), Failing: failing}, nil
}

func labels(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	var kv []string
	for k, v := range m {
		kv = append(kv, k+"="+strconv.Quote(v))
	}
	sort.Strings(kv)
	return "{" + strings.Join(kv, ",") + "} "
}
