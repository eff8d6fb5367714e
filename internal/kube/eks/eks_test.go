package eks

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"
)

func stsClient() *sts.Client {
	return sts.New(sts.Options{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret-key-example", ""),
	})
}

// decode returns the presigned URL inside a token.
func decode(t *testing.T, tok string) *url.URL {
	t.Helper()
	if !strings.HasPrefix(tok, tokenPrefix) {
		t.Fatalf("token %q lacks prefix %q", tok, tokenPrefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, tokenPrefix))
	if err != nil {
		t.Fatalf("token is not unpadded base64url: %v", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestTokenIsPresignedGetCallerIdentity(t *testing.T) {
	t.Parallel()
	var masked []string
	ts := NewTokenSource("prod", stsClient(), func(s string) { masked = append(masked, s) })
	tok, err := ts.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	u := decode(t, tok)
	q := u.Query()
	if got, want := u.Host, "sts.eu-west-1.amazonaws.com"; got != want {
		t.Errorf("host = %q, want %q", got, want)
	}
	if got, want := q.Get("Action"), "GetCallerIdentity"; got != want {
		t.Errorf("Action = %q, want %q", got, want)
	}
	if got := q.Get("X-Amz-SignedHeaders"); !strings.Contains(got, clusterIDHdr) {
		t.Errorf("signed headers %q do not include %s: the token would work for any cluster", got, clusterIDHdr)
	}
	if q.Get("X-Amz-Signature") == "" || !strings.HasPrefix(q.Get("X-Amz-Credential"), "AKIDEXAMPLE/") {
		t.Errorf("URL is not signed with the given credentials: %v", q)
	}
	if strings.Contains(tok, "secret-key-example") {
		t.Error("the token contains the secret key")
	}
	if len(masked) != 1 || masked[0] != tok {
		t.Errorf("masked %q, want the token masked once before use", masked)
	}
}

func TestTokenRefreshes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	ts := NewTokenSource("prod", stsClient(), nil)
	ts.now = func() time.Time { return now }
	first, err := ts.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if again, _ := ts.Token(t.Context()); again != first {
		t.Error("a token a minute old was replaced; want it reused")
	}
	now = now.Add(tokenRefresh)
	if _, err := ts.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !ts.created.Equal(now) {
		t.Errorf("a token older than the refresh age was reused (signed at %s, now %s)", ts.created, now)
	}
}

type fakeEKS struct{ out *eks.DescribeClusterOutput }

func (f fakeEKS) DescribeCluster(_ context.Context, in *eks.DescribeClusterInput, _ ...func(*eks.Options)) (*eks.DescribeClusterOutput, error) {
	if aws.ToString(in.Name) != "prod" {
		return nil, &ekstypes.ResourceNotFoundException{Message: aws.String("No cluster found for name: " + aws.ToString(in.Name))}
	}
	return f.out, nil
}

func TestRestConfigSendsToken(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var auth string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = r.Header.Get("Authorization")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"default"}}`))
	}))
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	api := fakeEKS{out: &eks.DescribeClusterOutput{Cluster: &ekstypes.Cluster{
		Endpoint:             aws.String(srv.URL),
		CertificateAuthority: &ekstypes.Certificate{Data: aws.String(base64.StdEncoding.EncodeToString(ca))},
		Status:               ekstypes.ClusterStatusActive,
	}}}
	ts := NewTokenSource("prod", stsClient(), nil)
	cfg, err := RestConfig(t.Context(), api, ts)
	if err != nil {
		t.Fatal(err)
	}
	core, err := coreclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := core.Namespaces().Get(t.Context(), "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("request through the EKS config: %v", err)
	}
	tok, _ := ts.Token(t.Context())
	mu.Lock()
	defer mu.Unlock()
	if got, want := auth, "Bearer "+tok; got != want {
		t.Errorf("Authorization = %q, want the token", got)
	}

	if _, err := RestConfig(t.Context(), api, NewTokenSource("staging", stsClient(), nil)); err == nil || !strings.Contains(err.Error(), `"staging"`) {
		t.Errorf("unknown cluster: error %v, want one naming the cluster", err)
	}
}
