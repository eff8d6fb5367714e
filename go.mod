module github.com/bluegreen-dev/bluegreen-action

go 1.26.8

require (
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/sethvargo/go-envconfig v1.4.3 // indirect
	github.com/sethvargo/go-githubactions v1.4.0 // indirect
	go.yaml.in/yaml/v2 v2.4.4 // indirect
	k8s.io/api v0.37.1 // indirect
	k8s.io/apimachinery v0.37.1 // indirect
	k8s.io/client-go v0.37.1 // indirect
	sigs.k8s.io/yaml v1.6.0 // indirect
)
