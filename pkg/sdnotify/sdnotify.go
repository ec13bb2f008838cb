// Package sdnotify tells systemd about a daemon's state (the sd_notify
// protocol behind Type=notify units). Every call is a no-op when the process
// was not started by systemd (NOTIFY_SOCKET unset).
package sdnotify

import (
	"fmt"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// Ready says that start-up is finished: every listener is bound.
func Ready() error { return send(daemon.SdNotifyReady) }

// Reloading says that a reload has begun; call Ready when it is finished.
// MONOTONIC_USEC lets systemd match the pair (Type=notify-reload needs it).
func Reloading() error {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return send(daemon.SdNotifyReloading)
	}
	usec := ts.Sec*int64(time.Second/time.Microsecond) + ts.Nsec/int64(time.Microsecond)
	return send(fmt.Sprintf("%s\nMONOTONIC_USEC=%d", daemon.SdNotifyReloading, usec))
}

// Stopping says that shutdown has begun.
func Stopping() error { return send(daemon.SdNotifyStopping) }

// Status sets the free-form status line systemctl status shows.
func Status(s string) error { return send("STATUS=" + s) }

func send(state string) error {
	_, err := daemon.SdNotify(false, state)
	return err
}
