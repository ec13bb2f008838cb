package daemon

import (
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/anvilstack/anvil/pkg/admin"
	"github.com/anvilstack/anvil/pkg/config"
	"github.com/anvilstack/anvil/pkg/logging"
)

// Common is the part of the configuration every daemon shares. A daemon's
// Config embeds it with `yaml:",inline"`, so its keys sit at the top level of
// the file next to the daemon's own.
type Common struct {
	// Listen is the daemon's main service address.
	Listen string `yaml:"listen"`
	// Admin is the admin HTTP server (metrics, health, management API).
	Admin admin.Config `yaml:"admin"`
	// DataDir is where the daemon keeps anything it stores.
	DataDir string `yaml:"data_dir"`
	// Log sets the level and format of the daemon's log on stderr.
	Log logging.Config `yaml:"log"`
	// ShutdownTimeout bounds the drain on SIGTERM/SIGINT; what has not
	// finished by then is cut off.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// DefaultCommon returns the shared defaults for a daemon: loopback
// addresses, data under ./.anvil/<name>, info logs as text, a 20 s drain.
func DefaultCommon(name, listen, adminListen string) Common {
	return Common{
		Listen:          listen,
		Admin:           admin.Config{Listen: adminListen},
		DataDir:         filepath.Join(".anvil", name),
		Log:             logging.DefaultConfig(),
		ShutdownTimeout: 20 * time.Second,
	}
}

// CommonConfig returns c; through embedding it gives the runtime the shared
// part of any daemon's Config.
func (c *Common) CommonConfig() *Common { return c }

// ListenAddrs returns pointers to every listen address in c. A daemon with
// more listeners defines its own ListenAddrs that adds them to these.
func (c *Common) ListenAddrs() []*string { return []*string{&c.Listen, &c.Admin.Listen} }

func (c *Common) validate() error {
	var ps config.Problems
	ps.CheckHostPort("listen", c.Listen)
	ps.Merge("admin", c.Admin.Validate())
	if c.DataDir == "" {
		ps.Add("data_dir", "must not be empty")
	}
	ps.Merge("log", c.Log.Validate())
	if c.ShutdownTimeout <= 0 {
		ps.Add("shutdown_timeout", "must be positive, got %v", c.ShutdownTimeout)
	}
	return ps.Err()
}

// keys of Common that a reload cannot change: they name resources the
// running process holds (sockets, files, the log handler).
var fixedCommonKeys = []string{"listen", "admin.listen", "data_dir", "log.format"}

// commonKeys are the top-level keys Common owns.
var commonKeys = []string{"listen", "admin", "data_dir", "log", "shutdown_timeout"}

// Config is what the runtime needs from a daemon's configuration type; it
// is implemented by a pointer to a struct that embeds Common.
type Config interface {
	CommonConfig() *Common
	ListenAddrs() []*string
	// Validate checks the daemon's own keys (the runtime checks Common's)
	// and returns every problem as config.Problems.
	Validate() error
}

// IsAddrInUse reports whether err is a bind failure because another
// process holds the address.
func IsAddrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }

// WithPort returns addr with its port replaced: WithPort("127.0.0.1:6380", 0)
// is "127.0.0.1:0".
func WithPort(addr string, port int) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// ShiftPort adds offset to addr's port.
func ShiftPort(addr string, offset int) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return addr, nil // a free port stays a free port
	}
	if n+offset <= 0 || n+offset > 65535 {
		return "", errors.New("port " + port + " shifted by " + strconv.Itoa(offset) + " is out of range")
	}
	return net.JoinHostPort(host, strconv.Itoa(n+offset)), nil
}
