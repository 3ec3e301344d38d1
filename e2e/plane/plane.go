// Package plane runs a real Kubernetes control plane on loopback for batchlens' end-to-end tests
// and `make demo-cluster`: etcd, kube-apiserver (token file, RBAC), kube-controller-manager (the
// Job, CronJob, TTL-after-finished and garbage-collector controllers, and the node lifecycle
// controller that lifts the not-ready taint new nodes get), kube-scheduler and kwok playing the kubelet of fake nodes. The binaries come
// from the pinned tools module (tools/controlplane), built once into a cache outside git.
package plane

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Build builds (or finds in the cache) the pinned control plane and returns the directory that
// holds its binaries and kwok's stages. repo is the batchlens repository root. Progress goes to
// progress; the first build takes about 15 minutes on 2 cores.
func Build(ctx context.Context, repo string, progress io.Writer) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(repo, "tools", "controlplane", "build.sh"))
	cmd.Stderr = progress
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("build the control plane: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

// Options configure Start.
type Options struct {
	Bin    string       // directory with the binaries and kwok's own stages/ (from Build)
	Stages []string     // the project's own kwok stage files, added to kwok's
	Work   string       // empty directory for data, certificates, kubeconfigs and logs
	Nodes  int          // fake nodes named kwok-node-0.. (default 3)
	Log    *slog.Logger // progress
}

// Plane is a running control plane. Its methods are not safe for concurrent use.
type Plane struct {
	opt        Options
	apiPort    int
	adminToken string
	procs      map[string]*exec.Cmd
	order      []string
	apiArgs    []string
	// Admin is a cluster-admin client (the token file's system:masters user).
	Admin kubernetes.Interface
	// AdminKubeconfig is the path of a kubeconfig for that user.
	AdminKubeconfig string
}

// Start starts etcd, the API server, the controller manager, the scheduler and kwok, creates the
// fake nodes and returns when they are Ready. On error everything started is stopped.
func Start(ctx context.Context, opt Options) (_ *Plane, err error) {
	if opt.Nodes == 0 {
		opt.Nodes = 3
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	p := &Plane{opt: opt, procs: map[string]*exec.Cmd{}}
	defer func() {
		if err != nil {
			p.Stop()
		}
	}()
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	etcdPort, peerPort, kwokPort := ports[0], ports[1], ports[3]
	p.apiPort = ports[2]
	if err := p.writeSecrets(); err != nil {
		return nil, err
	}

	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	if err := p.start("etcd", "--name=e2e", "--data-dir="+p.path("etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=e2e="+peerURL, "--unsafe-no-fsync=true", "--log-level=warn"); err != nil {
		return nil, err
	}
	p.apiArgs = []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(p.apiPort), "--cert-dir=" + p.path("certs"),
		"--token-auth-file=" + p.path("tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + p.path("sa.pub"),
		"--service-account-signing-key-file=" + p.path("sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--disable-admission-plugins=ServiceAccount",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		// kwok's nodes have no resolvable hostname: the node proxy goes to their InternalIP,
		// where e2e/kubelet serves their stats.
		"--kubelet-preferred-address-types=InternalIP",
	}
	if err := p.startAPIServer(ctx); err != nil {
		return nil, err
	}
	if err := p.writeAdminKubeconfig(); err != nil {
		return nil, err
	}
	if err := p.start("kube-controller-manager", "--kubeconfig="+p.AdminKubeconfig,
		"--authentication-kubeconfig="+p.AdminKubeconfig, "--authorization-kubeconfig="+p.AdminKubeconfig,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0",
		"--controllers=job-controller,cronjob-controller,ttl-after-finished-controller,garbage-collector-controller,node-lifecycle-controller",
		"--concurrent-job-syncs=10", "--concurrent-cron-job-syncs=10",
	); err != nil {
		return nil, err
	}
	if err := p.start("kube-scheduler", "--kubeconfig="+p.AdminKubeconfig,
		"--authentication-kubeconfig="+p.AdminKubeconfig, "--authorization-kubeconfig="+p.AdminKubeconfig,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0"); err != nil {
		return nil, err
	}
	stages, err := filepath.Glob(filepath.Join(opt.Bin, "stages", "*.yaml"))
	if err != nil || len(stages) == 0 {
		return nil, fmt.Errorf("no kwok stages in %s: %w", filepath.Join(opt.Bin, "stages"), err)
	}
	kwokArgs := []string{"--kubeconfig=" + p.AdminKubeconfig,
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-ip=127.0.0.1", "--server-address=127.0.0.1:" + strconv.Itoa(kwokPort),
		"--cidr=10.244.0.0/16"}
	for _, s := range append(stages, opt.Stages...) {
		kwokArgs = append(kwokArgs, "--config="+s)
	}
	if err := p.start("kwok", kwokArgs...); err != nil {
		return nil, err
	}
	for i := range opt.Nodes {
		if err := p.AddNode(ctx, "kwok-node-"+strconv.Itoa(i), nil); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// APIServer is the API server's URL.
func (p *Plane) APIServer() string { return "https://127.0.0.1:" + strconv.Itoa(p.apiPort) }

// AddNode creates a fake node managed by kwok with the given labels and waits until it is Ready.
func (p *Plane) AddNode(ctx context.Context, name string, labels map[string]string) error {
	l := map[string]string{"type": "kwok", "kubernetes.io/hostname": name}
	for k, v := range labels {
		l[k] = v
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l,
		Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"}}}
	if _, err := p.Admin.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create node %s: %w", name, err)
	}
	return poll(ctx, 60*time.Second, "node "+name+" Ready", func() (bool, error) {
		n, err := p.Admin.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

// RestartAPIServer stops the API server (SIGTERM), starts it again with the same flags and
// waits until it is ready: every watch on it breaks and has to resume.
func (p *Plane) RestartAPIServer(ctx context.Context, down time.Duration) error {
	p.stop("kube-apiserver")
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	return p.startAPIServer(ctx)
}

// Kubeconfig writes a kubeconfig for the bearer token into the work directory and returns its path.
func (p *Plane) Kubeconfig(name, token string) (string, error) {
	ca, err := os.ReadFile(p.path("certs", "apiserver.crt"))
	if err != nil {
		return "", fmt.Errorf("read the API server's certificate: %w", err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["e2e"] = &clientcmdapi.Cluster{Server: p.APIServer(), CertificateAuthorityData: ca}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: name}
	cfg.CurrentContext = name
	path := p.path(name + ".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return "", fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return path, nil
}

// Stop stops every process, newest first, with SIGTERM and then SIGKILL after 10 s.
func (p *Plane) Stop() {
	for i := len(p.order) - 1; i >= 0; i-- {
		p.stop(p.order[i])
	}
}

// Logs is the path of a component's log file.
func (p *Plane) Logs(name string) string { return p.path(name + ".log") }

func (p *Plane) startAPIServer(ctx context.Context) error {
	if err := p.start("kube-apiserver", p.apiArgs...); err != nil {
		return err
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // only to poll /readyz before the cert is known
	return poll(ctx, 90*time.Second, "kube-apiserver /readyz", func() (bool, error) {
		if err := p.exited("kube-apiserver"); err != nil {
			return false, err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.APIServer()+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+p.adminToken)
		resp, err := client.Do(req)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

func (p *Plane) writeSecrets() error {
	if err := os.MkdirAll(p.path("certs"), 0o700); err != nil {
		return fmt.Errorf("create work directory: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generate the service-account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("marshal the service-account key: %w", err)
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return fmt.Errorf("generate the admin token: %w", err)
	}
	p.adminToken = hex.EncodeToString(tok)
	files := map[string][]byte{
		"sa.key":     pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub":     pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
		"tokens.csv": []byte(p.adminToken + `,e2e-admin,e2e-admin,"system:masters"` + "\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(p.path(name), data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

func (p *Plane) writeAdminKubeconfig() error {
	path, err := p.Kubeconfig("admin", p.adminToken)
	if err != nil {
		return err
	}
	p.AdminKubeconfig = path
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return fmt.Errorf("load admin kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	p.Admin, err = kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	return nil
}

// RESTConfig is a client configuration for the admin user.
func (p *Plane) RESTConfig() (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", p.AdminKubeconfig)
}

func (p *Plane) start(name string, args ...string) error {
	logf, err := os.OpenFile(p.Logs(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open %s log: %w", name, err)
	}
	cmd := exec.Command(filepath.Join(p.opt.Bin, name), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	go func() { _ = cmd.Wait(); logf.Close() }()
	if _, ok := p.procs[name]; !ok {
		p.order = append(p.order, name)
	}
	p.procs[name] = cmd
	p.opt.Log.Info("started", "component", name, "pid", cmd.Process.Pid)
	return nil
}

// exited reports an error when a component's process has ended.
func (p *Plane) exited(name string) error {
	cmd := p.procs[name]
	if cmd == nil || cmd.ProcessState == nil {
		return nil
	}
	return fmt.Errorf("%s exited (%s); its log: %s\n%s", name, cmd.ProcessState, p.Logs(name), tail(p.Logs(name), 20))
}

func (p *Plane) stop(name string) {
	cmd := p.procs[name]
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(cmd.Process.Pid, 0) != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	for i := 0; i < 100 && syscall.Kill(cmd.Process.Pid, 0) == nil; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	delete(p.procs, name)
}

func (p *Plane) path(parts ...string) string {
	return filepath.Join(append([]string{p.opt.Work}, parts...)...)
}

// EnsureNamespace creates a namespace unless it exists.
func (p *Plane) EnsureNamespace(ctx context.Context, name string) error {
	_, err := p.Admin.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// poll calls f every 200 ms until it returns true or an error, or timeout passes.
func poll(ctx context.Context, timeout time.Duration, what string, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ok, err := f()
		if err != nil {
			return fmt.Errorf("wait for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", what, errors.Join(ctx.Err(), errors.New("timed out")))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
