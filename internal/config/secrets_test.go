package config_test

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/config"
)

// TestSecrets: every form in which a credential given as an input can
// leave the process is listed for masking.
func TestSecrets(t *testing.T) {
	t.Parallel()
	c, err := config.Load(t.Context(), config.Lookuper(validBase.with(
		"INPUT_VERIFY-URL", "https://probe:pa%2Fss@shop-preview.example.com/healthz",
		"INPUT_PRODUCTION-URL", "https://watch:hunter2@shop.example.com/healthz",
		"INPUT_DATABASE-URL", "postgres://shop:db-s3cret@db:5432/shop",
		"INPUT_VERIFY-HEADERS", "X-Api-Key: key-123\nBearer tok:en-456\nnaked-token-789",
	).getenv))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Secrets()
	for _, want := range []string{
		"pa/ss", "pa%2Fss", base64.StdEncoding.EncodeToString([]byte("probe:pa/ss")),
		"hunter2", base64.StdEncoding.EncodeToString([]byte("watch:hunter2")),
		"db-s3cret", "postgres://shop:db-s3cret@db:5432/shop",
		"key-123", "Bearer tok:en-456", "naked-token-789",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("Secrets() = %q, lacks %q", got, want)
		}
	}
	for _, s := range got {
		if strings.TrimSpace(s) == "" {
			t.Errorf("Secrets() holds a blank value: %q", got)
		}
	}
}

// TestBadValueIsCut: an error quotes at most about 200 bytes of a value.
func TestBadValueIsCut(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 120*1024)
	for _, e := range []env{
		validBase.with("INPUT_IMAGE", "ghcr.io/acme/shop:"+huge+"!"),
		validBase.with("INPUT_WAIT-TIMEOUT", huge),
		validBase.with("INPUT_APP", huge),
		validBase.with("INPUT_VERIFY-URL", "ftp://"+huge),
		validBase.with("INPUT_COMMAND", huge),
	} {
		err := loadAndValidate(t.Context(), e)
		if err == nil {
			t.Fatal("no error for a 120 KB value")
		}
		if n := len(err.Error()); n > 1000 {
			t.Errorf("the error of a 120 KB value is %d bytes: %.300s", n, err)
		}
		if !strings.Contains(err.Error(), "bytes in all") {
			t.Errorf("the error does not say the value was cut: %.300s", err)
		}
	}
}
