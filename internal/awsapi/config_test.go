package awsapi

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/google/go-cmp/cmp"
)

const listenersXML = `<DescribeListenersResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">
  <DescribeListenersResult><Listeners><member>
    <ListenerArn>arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shop/1/2</ListenerArn>
    <Port>443</Port><Protocol>HTTPS</Protocol>
  </member></Listeners></DescribeListenersResult>
  <ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata>
</DescribeListenersResponse>`

const throttledXML = `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">
  <Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>
  <RequestId>req-1</RequestId>
</ErrorResponse>`

// elbServer answers DescribeListeners like ELBv2 does, refusing the first
// throttle requests with a Throttling error.
func elbServer(throttle int32) http.Handler {
	var n atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "DescribeListeners" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		if n.Add(1) <= throttle {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, throttledXML)
			return
		}
		fmt.Fprint(w, listenersXML)
	})
}

// isolate keeps the developer's own AWS files and profile out of a test.
func isolate(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
}

func load(t *testing.T, url string, c *Counter) aws.Config {
	t.Helper()
	cfg, err := LoadConfig(t.Context(), "eu-west-1",
		WithEndpoint(url),
		WithCredentials(credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")),
		WithRetry(3, time.Millisecond),
		WithCounter(c))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestCounterCountsAttemptsThroughRetries(t *testing.T) {
	for _, bundle := range []string{"unset", "system"} {
		t.Run("AWS_CA_BUNDLE "+bundle, func(t *testing.T) {
			isolate(t)
			if bundle == "unset" {
				t.Setenv("AWS_CA_BUNDLE", "")
				os.Unsetenv("AWS_CA_BUNDLE")
			} else if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err == nil {
				t.Setenv("AWS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
			} else {
				t.Skip("no system CA bundle here")
			}
			srv := httptest.NewServer(elbServer(1))
			defer srv.Close()
			c := NewCounter()
			client := elasticloadbalancingv2.NewFromConfig(load(t, srv.URL, c))

			out, err := client.DescribeListeners(t.Context(), &elasticloadbalancingv2.DescribeListenersInput{
				ListenerArns: []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shop/1/2"},
			})
			if err != nil {
				t.Fatalf("the retryer did not absorb one Throttling: %v", err)
			}
			if got, want := len(out.Listeners), 1; got != want {
				t.Fatalf("listeners: got %d, want %d", got, want)
			}
			if got, want := c.Count(), 2; got != want {
				t.Errorf("Count() = %d, want %d (one throttled attempt, one retry)", got, want)
			}
			if diff := cmp.Diff(map[string]int{"DescribeListeners": 2}, c.ByOperation()); diff != "" {
				t.Errorf("ByOperation() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestThrottlingSurfacesAfterMaxAttempts(t *testing.T) {
	isolate(t)
	srv := httptest.NewServer(elbServer(100))
	defer srv.Close()
	c := NewCounter()
	client := elasticloadbalancingv2.NewFromConfig(load(t, srv.URL, c))
	_, err := client.DescribeListeners(t.Context(), &elasticloadbalancingv2.DescribeListenersInput{})
	if !IsThrottle(err) {
		t.Fatalf("IsThrottle(%v) = false, want true", err)
	}
	if got, want := c.Count(), 3; got != want {
		t.Errorf("Count() = %d, want %d (max attempts)", got, want)
	}
}

// TestCABundle proves that LoadConfig honours AWS_CA_BUNDLE: a TLS server
// with a private certificate is trusted only when the bundle names it.
func TestCABundle(t *testing.T) {
	isolate(t)
	srv := httptest.NewTLSServer(elbServer(0))
	defer srv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(bundle, pemCert, 0o600); err != nil {
		t.Fatal(err)
	}

	t.Setenv("AWS_CA_BUNDLE", bundle)
	c := NewCounter()
	client := elasticloadbalancingv2.NewFromConfig(load(t, srv.URL, c))
	if _, err := client.DescribeListeners(t.Context(), &elasticloadbalancingv2.DescribeListenersInput{}); err != nil {
		t.Fatalf("with AWS_CA_BUNDLE naming the server's certificate: %v", err)
	}

	os.Unsetenv("AWS_CA_BUNDLE")
	client = elasticloadbalancingv2.NewFromConfig(load(t, srv.URL, c))
	_, err := client.DescribeListeners(t.Context(), &elasticloadbalancingv2.DescribeListenersInput{})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the bundle: got %v, want a certificate error", err)
	}
}

func TestLoadConfigNeedsRegion(t *testing.T) {
	isolate(t)
	_, err := LoadConfig(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "no region") {
		t.Fatalf("got %v, want a missing-region error", err)
	}
	cfg, err := LoadConfig(context.Background(), "us-west-2")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Region, "us-west-2"; got != want {
		t.Errorf("region: got %q, want %q", got, want)
	}
}

// TestSilentEndpointBoundsTheWholeCall: an endpoint that accepts requests
// and never answers costs one API call at most two HTTP timeouts, its
// retries included, rather than every attempt's timeout plus backoff.
func TestSilentEndpointBoundsTheWholeCall(t *testing.T) {
	isolate(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := NewCounter()
	cfg, err := LoadConfig(t.Context(), "eu-west-1",
		WithEndpoint(srv.URL),
		WithCredentials(credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")),
		WithRetry(5, time.Millisecond),
		WithHTTPTimeout(50*time.Millisecond),
		WithCounter(c))
	if err != nil {
		t.Fatal(err)
	}
	_, err = elasticloadbalancingv2.NewFromConfig(cfg).DescribeListeners(t.Context(), &elasticloadbalancingv2.DescribeListenersInput{})
	if err == nil || !strings.Contains(err.Error(), "no answer within 100ms, retries included (request-timeout)") {
		t.Errorf("error = %v, want one that says the call got no answer within two timeouts", err)
	}
	if got := c.Count(); got < 1 || got > operationAttempts {
		t.Errorf("attempts = %d, want 1 to %d: a silent endpoint must not cost all 5", got, operationAttempts)
	}
}
