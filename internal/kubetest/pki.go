package kubetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// pkiFiles are the credentials of a plane started by StartPlane: what
// scripts/kube-local makes with openssl, made here with the standard
// library.
type pkiFiles struct {
	dir, ca, cert, key string
	saKey, saPub       string
	tokens, token      string
}

func writePKI(t testing.TB, dir string) pkiFiles {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := pkiFiles{
		dir: dir, ca: filepath.Join(dir, "ca.crt"), cert: filepath.Join(dir, "apiserver.crt"), key: filepath.Join(dir, "apiserver.key"),
		saKey: filepath.Join(dir, "sa.key"), saPub: filepath.Join(dir, "sa.pub"), tokens: filepath.Join(dir, "tokens.csv"),
	}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("kubetest: making the plane's keys: %v", err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubetest-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	check(err)
	caCert, err := x509.ParseCertificate(caDER)
	check(err)
	serverKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	server := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	}
	serverDER, err := x509.CreateCertificate(rand.Reader, server, caCert, &serverKey.PublicKey, caKey)
	check(err)
	// Service-account tokens are signed with RSA, as scripts/kube-local's are.
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	check(err)

	writePEM := func(path, kind string, der []byte) {
		t.Helper()
		check(os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600))
	}
	marshal := func(k any) []byte {
		t.Helper()
		der, err := x509.MarshalPKCS8PrivateKey(k)
		check(err)
		return der
	}
	writePEM(p.ca, "CERTIFICATE", caDER)
	writePEM(p.cert, "CERTIFICATE", serverDER)
	writePEM(p.key, "PRIVATE KEY", marshal(serverKey))
	writePEM(p.saKey, "PRIVATE KEY", marshal(saKey))
	pub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	check(err)
	writePEM(p.saPub, "PUBLIC KEY", pub)

	// One static user in system:masters: the test acts as cluster admin.
	b := make([]byte, 32)
	_, err = rand.Read(b)
	check(err)
	p.token = hex.EncodeToString(b)
	check(os.WriteFile(p.tokens, fmt.Appendf(nil, "%s,kubetest-admin,kubetest-admin,\"system:masters\"\n", p.token), 0o600))
	return p
}

func writeKubeconfig(t testing.TB, path string, port int, p pkiFiles) {
	t.Helper()
	ca, err := os.ReadFile(p.ca)
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kubetest
  cluster:
    server: https://127.0.0.1:%d
    certificate-authority-data: %s
users:
- name: kubetest-admin
  user:
    token: %s
contexts:
- name: kubetest
  context: {cluster: kubetest, user: kubetest-admin, namespace: default}
current-context: kubetest
`, port, base64.StdEncoding.EncodeToString(ca), p.token)
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
}
