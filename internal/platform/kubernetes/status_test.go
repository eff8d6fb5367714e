package kubernetes

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func deployment(gen, observed int64, replicas int32, st appsv1.DeploymentStatus) *appsv1.Deployment {
	st.ObservedGeneration = observed
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Generation: gen},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas},
		Status:     st,
	}
}

func TestComplete(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		d    *appsv1.Deployment
		want string // "" complete, else a part of the reason
	}{
		{"complete", deployment(2, 2, 3, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}), ""},
		{"spec not observed", deployment(3, 2, 3, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}), "not seen the latest spec"},
		{"not all updated", deployment(2, 2, 3, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 2, ReadyReplicas: 3, AvailableReplicas: 3}), "2 of 3 replicas updated"},
		{"old replicas left", deployment(2, 2, 3, appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}), "1 old replicas"},
		{"not ready", deployment(2, 2, 3, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 1, AvailableReplicas: 1}), "1/3 ready"},
		{"not available", deployment(2, 2, 3, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 2}), "2/3 available"},
		{"scaled to zero is never healthy", deployment(2, 2, 0, appsv1.DeploymentStatus{}), "scaled to 0"},
	}
	for _, tc := range cases {
		got := complete(tc.d)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: complete() = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPodReason(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		pod  corev1.PodStatus
		want string
	}{
		{"unschedulable", corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/1 nodes are available"}}}, "Unschedulable: 0/1 nodes"},
		{"image pull", corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "web", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "pull access denied"}}}}}, "container web ImagePullBackOff: pull access denied"},
		{"crash loop", corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "web", RestartCount: 4, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}}}, "CrashLoopBackOff"},
		{"probe failing", corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "web", RestartCount: 1, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}, "readiness probe failing?), 1 restarts"},
		{"ready", corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "web", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}, ""},
	}
	for _, tc := range cases {
		got := podReason(&corev1.Pod{Status: tc.pod})
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: podReason() = %q, want %q", tc.name, got, tc.want)
		}
	}
}
