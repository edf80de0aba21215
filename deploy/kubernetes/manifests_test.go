// Package kubernetes_test parses every manifest of the kustomize base
// (base/) and holds the Deployment to the settings the single-writer
// database and the "restricted" Pod Security Standard need; it checks that
// neither the base nor the top-level kustomization carries a Secret (so
// applying them never overwrites the one an operator created), and that
// the overlays build.
package kubernetes_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/mcpdrift/mcpdrift/internal/config"
)

// Only the fields the checks read; yaml ignores the rest.
type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec yaml.Node `yaml:"spec"`

	file string
	raw  map[string]any
}

type securityContext struct {
	RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
	RunAsUser                *int  `yaml:"runAsUser"`
	Privileged               *bool `yaml:"privileged"`
	AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
	Capabilities             struct {
		Drop []string `yaml:"drop"`
		Add  []string `yaml:"add"`
	} `yaml:"capabilities"`
	SeccompProfile struct {
		Type string `yaml:"type"`
	} `yaml:"seccompProfile"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type container struct {
	Name  string `yaml:"name"`
	Image string `yaml:"image"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	StartupProbe   *probe `yaml:"startupProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext securityContext `yaml:"securityContext"`
	VolumeMounts    []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type deploymentSpec struct {
	Replicas *int `yaml:"replicas"`
	Strategy struct {
		Type string `yaml:"type"`
	} `yaml:"strategy"`
	Template struct {
		Metadata struct {
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"metadata"`
		Spec struct {
			AutomountServiceAccountToken *bool           `yaml:"automountServiceAccountToken"`
			HostNetwork                  bool            `yaml:"hostNetwork"`
			HostPID                      bool            `yaml:"hostPID"`
			HostIPC                      bool            `yaml:"hostIPC"`
			SecurityContext              securityContext `yaml:"securityContext"`
			Containers                   []container     `yaml:"containers"`
			InitContainers               []container     `yaml:"initContainers"`
			Volumes                      []struct {
				Name                  string `yaml:"name"`
				PersistentVolumeClaim *struct {
					ClaimName string `yaml:"claimName"`
				} `yaml:"persistentVolumeClaim"`
				ConfigMap *struct {
					Name string `yaml:"name"`
				} `yaml:"configMap"`
				Secret *struct {
					SecretName string `yaml:"secretName"`
				} `yaml:"secret"`
				EmptyDir *struct{} `yaml:"emptyDir"`
			} `yaml:"volumes"`
		} `yaml:"spec"`
	} `yaml:"template"`
}

// base is the directory of the kustomize base.
const base = "base"

// notManifests are YAML files in the base that are not Kubernetes objects.
var notManifests = []string{"kustomization.yaml", "config.yaml"}

// loadManifests decodes every document of every manifest in the directory.
func loadManifests(t *testing.T) []object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(base, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []object
	for _, f := range files {
		if slices.Contains(notManifests, filepath.Base(f)) {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for i := 0; ; i++ {
			var node yaml.Node
			err := dec.Decode(&node)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			var o object
			if err := node.Decode(&o); err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			if err := node.Decode(&o.raw); err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Errorf("%s document %d: missing apiVersion, kind or metadata.name", f, i)
			}
			o.file = f
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		t.Fatal("no manifests found")
	}
	return out
}

func find(t *testing.T, objs []object, kind string) []object {
	t.Helper()
	var out []object
	for _, o := range objs {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

func one(t *testing.T, objs []object, kind string) object {
	t.Helper()
	found := find(t, objs, kind)
	if len(found) != 1 {
		t.Fatalf("want exactly one %s, found %d", kind, len(found))
	}
	return found[0]
}

func deployment(t *testing.T, objs []object) deploymentSpec {
	t.Helper()
	d := one(t, objs, "Deployment")
	var spec deploymentSpec
	if err := d.Spec.Decode(&spec); err != nil {
		t.Fatalf("%s: %v", d.file, err)
	}
	if len(spec.Template.Spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(spec.Template.Spec.Containers))
	}
	return spec
}

func isTrue(b *bool) bool  { return b != nil && *b }
func isFalse(b *bool) bool { return b != nil && !*b }

func TestDeploymentIsSingleWriter(t *testing.T) {
	spec := deployment(t, loadManifests(t))
	if spec.Replicas == nil || *spec.Replicas != 1 {
		t.Errorf("replicas %v, want exactly 1: bbolt allows one writer", spec.Replicas)
	}
	if spec.Strategy.Type != "Recreate" {
		t.Errorf("strategy %q, want Recreate: a rolling update would run two writers", spec.Strategy.Type)
	}
}

func TestDeploymentSecurity(t *testing.T) {
	spec := deployment(t, loadManifests(t))
	pod := spec.Template.Spec
	if !isTrue(pod.SecurityContext.RunAsNonRoot) {
		t.Error("pod securityContext.runAsNonRoot is not true")
	}
	if u := pod.SecurityContext.RunAsUser; u == nil || *u == 0 {
		t.Errorf("pod runAsUser %v, want a non-zero uid", u)
	}
	if pod.SecurityContext.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("pod seccompProfile %q, want RuntimeDefault", pod.SecurityContext.SeccompProfile.Type)
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Error("pod shares a host namespace")
	}
	if !isFalse(pod.AutomountServiceAccountToken) {
		t.Error("pod mounts a service account token it never uses")
	}
	for _, c := range append(slices.Clone(pod.Containers), pod.InitContainers...) {
		t.Run(c.Name, func(t *testing.T) {
			sc := c.SecurityContext
			if isTrue(sc.Privileged) {
				t.Error("privileged")
			}
			if !isFalse(sc.AllowPrivilegeEscalation) {
				t.Error("allowPrivilegeEscalation is not false")
			}
			if !isTrue(sc.ReadOnlyRootFilesystem) {
				t.Error("readOnlyRootFilesystem is not true")
			}
			if !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
				t.Errorf("capabilities drop %v add %v, want drop [ALL] and nothing added", sc.Capabilities.Drop, sc.Capabilities.Add)
			}
			if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot {
				t.Error("container overrides runAsNonRoot to false")
			}
			if sc.SeccompProfile.Type != "" && sc.SeccompProfile.Type != "RuntimeDefault" {
				t.Errorf("container seccompProfile %q", sc.SeccompProfile.Type)
			}
			for _, kind := range []string{"cpu", "memory"} {
				if c.Resources.Requests[kind] == "" || c.Resources.Limits[kind] == "" {
					t.Errorf("%s request %q limit %q: want both", kind, c.Resources.Requests[kind], c.Resources.Limits[kind])
				}
			}
		})
	}
}

func TestNoHostAccessAnywhere(t *testing.T) {
	for _, o := range loadManifests(t) {
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, c := range v {
					switch {
					case k == "hostPath":
						t.Errorf("%s: %s.hostPath", o.file, path)
					case k == "privileged" && c == true:
						t.Errorf("%s: %s.privileged is true", o.file, path)
					case (k == "hostNetwork" || k == "hostPID" || k == "hostIPC") && c == true:
						t.Errorf("%s: %s.%s is true", o.file, path, k)
					}
					walk(path+"."+k, c)
				}
			case []any:
				for _, c := range v {
					walk(path+"[]", c)
				}
			}
		}
		walk(o.Kind, o.raw)
	}
}

func TestProbesAndService(t *testing.T) {
	objs := loadManifests(t)
	spec := deployment(t, objs)
	c := spec.Template.Spec.Containers[0]
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 9464 {
		t.Fatalf("ports %+v, want one: 9464", c.Ports)
	}
	port := c.Ports[0].Name
	tests := []struct {
		name string
		p    *probe
		path string
	}{
		{"startup", c.StartupProbe, "/healthz"},
		{"liveness", c.LivenessProbe, "/healthz"},
		{"readiness", c.ReadinessProbe, "/readyz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.p == nil {
				t.Fatal("missing")
			}
			if tt.p.HTTPGet.Path != tt.path {
				t.Errorf("path %q, want %q", tt.p.HTTPGet.Path, tt.path)
			}
			if tt.p.HTTPGet.Port != port && tt.p.HTTPGet.Port != 9464 {
				t.Errorf("port %v, want %q or 9464", tt.p.HTTPGet.Port, port)
			}
		})
	}

	svc := one(t, objs, "Service")
	var s struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
	}
	if err := svc.Spec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	for k, v := range s.Selector {
		if spec.Template.Metadata.Labels[k] != v {
			t.Errorf("Service selects %s=%s, which the pod does not carry", k, v)
		}
	}
	if len(s.Ports) != 1 || s.Ports[0].TargetPort != port {
		t.Errorf("Service ports %+v, want one targeting %q", s.Ports, port)
	}

	// The optional ServiceMonitor scrapes that Service's port.
	sm := one(t, objs, "ServiceMonitor")
	var m struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Endpoints []struct {
			Port string `yaml:"port"`
			Path string `yaml:"path"`
		} `yaml:"endpoints"`
	}
	if err := sm.Spec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	for k, v := range m.Selector.MatchLabels {
		if svc.Metadata.Labels[k] != v {
			t.Errorf("ServiceMonitor selects %s=%s, which the Service does not carry", k, v)
		}
	}
	if len(m.Endpoints) != 1 || m.Endpoints[0].Port != s.Ports[0].Name || m.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoints %+v, want port %q path /metrics", m.Endpoints, s.Ports[0].Name)
	}
}

// TestVolumes checks that the database lives on the PVC and that the
// directories the config names are mounted, the writable ones writable.
func TestVolumes(t *testing.T) {
	objs := loadManifests(t)
	spec := deployment(t, objs)
	c := spec.Template.Spec.Containers[0]
	cfg := k8sConfig(t)

	mounts := map[string]string{} // mount path -> volume name
	readOnly := map[string]bool{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
		readOnly[m.MountPath] = m.ReadOnly
	}
	volumeOf := func(path string) (string, string) {
		// The longest mount path containing path.
		best := ""
		for mp := range mounts {
			if (path == mp || strings.HasPrefix(path, mp+"/")) && len(mp) > len(best) {
				best = mp
			}
		}
		return best, mounts[best]
	}

	pvc := one(t, objs, "PersistentVolumeClaim")
	dbDir := filepath.Dir(cfg.Storage.Path)
	mp, vol := volumeOf(dbDir)
	if mp == "" || readOnly[mp] {
		t.Fatalf("database directory %s is not on a writable mount", dbDir)
	}
	for _, v := range spec.Template.Spec.Volumes {
		switch v.Name {
		case vol:
			if v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != pvc.Metadata.Name {
				t.Errorf("database directory %s is on volume %q, not the PVC %q", dbDir, vol, pvc.Metadata.Name)
			}
		}
	}

	if mp, vol := volumeOf(cfg.Admin.Socket); mp == "" || readOnly[mp] || !isEmptyDir(spec, vol) {
		t.Errorf("admin socket %s is not on a writable emptyDir (mount %q, volume %q)", cfg.Admin.Socket, mp, vol)
	}
	if mp, vol := volumeOf("/tmp/x"); mp == "" || !isEmptyDir(spec, vol) {
		t.Error("no writable /tmp: readOnlyRootFilesystem needs an emptyDir there")
	}

	// The config file comes from the generated ConfigMap.
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	cfgPath := env["MCPDRIFT_CONFIG"]
	if mp, vol := volumeOf(cfgPath); mp == "" || !readOnly[mp] || configMapOf(spec, vol) != generatedConfigMap(t) {
		t.Errorf("MCPDRIFT_CONFIG %q is not read from the ConfigMap %q (mount %q, volume %q)", cfgPath, generatedConfigMap(t), mp, vol)
	}
	if filepath.Base(cfgPath) != "config.yaml" {
		t.Errorf("MCPDRIFT_CONFIG %q: the generator's key is config.yaml", cfgPath)
	}

	// Every secret file the config reads is in the mounted Secret, as the
	// overlay generates it (and as the kubectl create secret command in
	// the base's kustomization.yaml makes it).
	gen := secretGenerator(t)
	secretName := gen.Name
	keys := map[string]bool{}
	for _, f := range gen.Files {
		k, _, _ := strings.Cut(f, "=")
		keys[k] = true
	}
	raw, err := os.ReadFile(filepath.Join(base, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	howto, err := os.ReadFile(filepath.Join(base, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		_, after, ok := strings.Cut(line, "/run/secrets/mcpdrift/")
		if !ok {
			continue
		}
		key := strings.FieldsFunc(after, func(r rune) bool { return r == '}' || r == ',' || r == ' ' || r == '"' })[0]
		mp, vol := volumeOf("/run/secrets/mcpdrift/" + key)
		if mp == "" || secretOf(spec, vol) != secretName {
			t.Errorf("config reads /run/secrets/mcpdrift/%s, which is not mounted from Secret %q", key, secretName)
		}
		if !keys[key] {
			t.Errorf("the overlay's Secret %q has no key %q the config reads", secretName, key)
		}
		if !strings.Contains(string(howto), "--from-file="+key+"=") {
			t.Errorf("the kubectl create secret command in %s/kustomization.yaml lacks the key %q the config reads", base, key)
		}
	}
}

func isEmptyDir(spec deploymentSpec, name string) bool {
	for _, v := range spec.Template.Spec.Volumes {
		if v.Name == name {
			return v.EmptyDir != nil
		}
	}
	return false
}

func configMapOf(spec deploymentSpec, name string) string {
	for _, v := range spec.Template.Spec.Volumes {
		if v.Name == name && v.ConfigMap != nil {
			return v.ConfigMap.Name
		}
	}
	return ""
}

func secretOf(spec deploymentSpec, name string) string {
	for _, v := range spec.Template.Spec.Volumes {
		if v.Name == name && v.Secret != nil {
			return v.Secret.SecretName
		}
	}
	return ""
}

// k8sConfig parses config.yaml as the daemon will.
func k8sConfig(t *testing.T) *config.Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(base, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("config.yaml", data, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config.yaml is invalid:\n%v", err)
	}
	return cfg
}

type generator struct {
	Name  string   `yaml:"name"`
	Files []string `yaml:"files"`
}

type kustomization struct {
	Resources          []string    `yaml:"resources"`
	ConfigMapGenerator []generator `yaml:"configMapGenerator"`
	SecretGenerator    []generator `yaml:"secretGenerator"`
	Images             []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
		Digest  string `yaml:"digest"`
	} `yaml:"images"`
}

// secretOverlay is the overlay that generates the Secret from files.
const secretOverlay = "overlays/secret-files"

// secretGenerator is the overlay's generator of the Secret the Deployment
// mounts.
func secretGenerator(t *testing.T) generator {
	t.Helper()
	k := readKustomizationAt(t, secretOverlay)
	if len(k.SecretGenerator) != 1 {
		t.Fatalf("%s generates %d Secrets, want 1", secretOverlay, len(k.SecretGenerator))
	}
	return k.SecretGenerator[0]
}

func readKustomization(t *testing.T) kustomization {
	t.Helper()
	return readKustomizationAt(t, base)
}

// readKustomizationAt reads the kustomization.yaml of dir.
func readKustomizationAt(t *testing.T, dir string) kustomization {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	return k
}

// generatedConfigMap is the name kustomize generates the config under.
func generatedConfigMap(t *testing.T) string {
	t.Helper()
	for _, g := range readKustomization(t).ConfigMapGenerator {
		if slices.Contains(g.Files, "config.yaml") {
			return g.Name
		}
	}
	t.Fatal("kustomization.yaml generates no ConfigMap from config.yaml")
	return ""
}

func TestConfig(t *testing.T) {
	cfg := k8sConfig(t)
	if cfg.HTTP.Listen != "0.0.0.0:9464" {
		t.Errorf("http.listen %q: probes and Prometheus reach the pod IP, want 0.0.0.0:9464", cfg.HTTP.Listen)
	}
	if cfg.InlineSecrets() {
		t.Error("config.yaml holds a secret inline; it is a ConfigMap, not a Secret")
	}
	if cfg.Admin.Socket == "" {
		t.Error("admin.socket is not set: kubectl exec would have to guess it")
	}
}

// TestConfigChecksum keeps the pod template annotation in step with
// config.yaml, in the format config.Hash reports.
func TestConfigChecksum(t *testing.T) {
	spec := deployment(t, loadManifests(t))
	data, err := os.ReadFile(filepath.Join(base, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	want := "sha256:" + hex.EncodeToString(sum[:])
	if got := spec.Template.Metadata.Annotations["mcpdrift.dev/config-checksum"]; got != want {
		t.Errorf("deployment.yaml annotation mcpdrift.dev/config-checksum is %q; config.yaml is %q: update the annotation", got, want)
	}
	if got := k8sConfig(t).Hash(); got != want {
		t.Errorf("config.Hash() = %q, want the file's sha256 %q", got, want)
	}
}

func TestKustomization(t *testing.T) {
	k := readKustomization(t)
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join(base, r)); err != nil {
			t.Errorf("resource %s: %v", r, err)
		}
	}
	for _, kind := range []string{"deployment.yaml", "pvc.yaml", "service.yaml"} {
		if !slices.Contains(k.Resources, kind) {
			t.Errorf("%s/kustomization.yaml does not include %s", base, kind)
		}
	}
	// Applying the base must never overwrite the Secret an operator made.
	if secrets := find(t, loadManifests(t), "Secret"); len(secrets) > 0 {
		t.Errorf("the base holds a Secret (%s): kubectl apply -k would overwrite the real one", secrets[0].file)
	}
	if top := readKustomizationAt(t, "."); !slices.Equal(top.Resources, []string{base}) || len(top.SecretGenerator) > 0 {
		t.Errorf("kustomization.yaml: resources %v, want only %q and no Secret", top.Resources, base)
	}
	// The image is one the operator built (kustomization "images"), never
	// a public one that does not exist.
	image := deployment(t, loadManifests(t)).Template.Spec.Containers[0].Image
	if len(k.Images) != 1 || k.Images[0].Name != image || k.Images[0].NewName == "" {
		t.Errorf("images %+v: want one entry renaming the Deployment's image %q", k.Images, image)
	}
}

// TestSecretOverlay checks the overlay that generates the Secret: it builds
// on the base, names the Secret the Deployment mounts (kustomize then
// rewrites the reference to the hashed name), and keeps the credential
// files out of git.
func TestSecretOverlay(t *testing.T) {
	k := readKustomizationAt(t, secretOverlay)
	if !slices.Equal(k.Resources, []string{"../../" + base}) {
		t.Errorf("%s resources %v, want the base", secretOverlay, k.Resources)
	}
	gen := secretGenerator(t)
	spec := deployment(t, loadManifests(t))
	mounted := ""
	for _, v := range spec.Template.Spec.Volumes {
		if v.Secret != nil {
			mounted = v.Secret.SecretName
		}
	}
	if gen.Name != mounted {
		t.Errorf("the overlay generates Secret %q, the Deployment mounts %q", gen.Name, mounted)
	}
	ignore, err := os.ReadFile(filepath.Join(secretOverlay, "secrets", ".gitignore"))
	if err != nil || !strings.Contains(string(ignore), "\n*\n") || !strings.Contains(string(ignore), "!.gitignore") {
		t.Errorf("%s/secrets/.gitignore does not ignore the credentials: %q %v", secretOverlay, ignore, err)
	}
	for _, f := range gen.Files {
		_, src, _ := strings.Cut(f, "=")
		if !strings.HasPrefix(src, "secrets/") {
			t.Errorf("generator file %s is outside the ignored secrets/ directory", src)
		}
	}
}

// TestKustomizeBuild builds the base and the overlay with kubectl, when it
// is installed: the hashed ConfigMap name must reach the Deployment, the
// base must hold no Secret, and the overlay's hashed Secret name must reach
// the Deployment too.
func TestKustomizeBuild(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil || testing.Short() {
		t.Skip("kubectl is not installed (or -short)")
	}
	out, err := exec.Command(kubectl, "kustomize", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, out)
	}
	name := generatedConfigMap(t)
	if n := strings.Count(string(out), "name: "+name+"-"); n != 2 {
		t.Errorf("hashed ConfigMap name %s-<hash> appears %d times in the build, want 2 (the ConfigMap and the Deployment's volume)", name, n)
	}
	if strings.Contains(string(out), "kind: Secret") {
		t.Error("the base build holds a Secret")
	}
	if !strings.Contains(string(out), "image: registry.example.com/") {
		t.Error("the images entry did not rename the Deployment's image")
	}

	// The overlay needs its credential files: build a copy with made-up ones.
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(".")); err != nil {
		t.Fatal(err)
	}
	gen := secretGenerator(t)
	for _, f := range gen.Files {
		_, src, _ := strings.Cut(f, "=")
		if err := os.WriteFile(filepath.Join(dir, secretOverlay, src), []byte("made-up "+src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err = exec.Command(kubectl, "kustomize", filepath.Join(dir, secretOverlay)).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", secretOverlay, err, out)
	}
	hashed := regexp.MustCompile(`name: (` + regexp.QuoteMeta(gen.Name) + `-[a-z0-9]+)\n`).FindStringSubmatch(string(out))
	if hashed == nil {
		t.Fatalf("no Secret %s-<hash> in the overlay's build:\n%s", gen.Name, out)
	}
	if !strings.Contains(string(out), "secretName: "+hashed[1]) {
		t.Errorf("the Deployment does not mount the generated Secret %s", hashed[1])
	}
	if strings.Contains(string(out), "name: "+gen.Name+"\n") {
		t.Error("the overlay also holds a Secret under the plain name, which would overwrite one made by hand")
	}
}
