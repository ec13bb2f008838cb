package cached

import (
	"fmt"
	"strconv"

	"github.com/anvilstack/anvil/cached/store"
)

// notifyAll is the "A" alias: every class but key-miss and new.
const notifyAll = store.ClassGeneric | store.ClassString | store.ClassList | store.ClassSet | store.ClassHash |
	store.ClassZSet | store.ClassExpired | store.ClassEvicted | store.ClassStream | store.ClassModule

var notifyLetters = []struct {
	c     byte
	class store.Class
}{
	{'g', store.ClassGeneric}, {'$', store.ClassString}, {'l', store.ClassList}, {'s', store.ClassSet},
	{'h', store.ClassHash}, {'z', store.ClassZSet}, {'x', store.ClassExpired}, {'e', store.ClassEvicted},
	{'t', store.ClassStream}, {'d', store.ClassModule}, {'n', store.ClassNew},
}

// parseNotifyFlags parses notify-keyspace-events letters.
func parseNotifyFlags(s string) (store.Class, error) {
	var f store.Class
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 'A':
			f |= notifyAll
		case 'K':
			f |= store.ClassKeyspace
		case 'E':
			f |= store.ClassKeyevent
		case 'm':
			f |= store.ClassKeyMiss
		default:
			found := false
			for _, l := range notifyLetters {
				if l.c == c {
					f |= l.class
					found = true
				}
			}
			if !found {
				return 0, fmt.Errorf("unknown class %q in %q", c, s)
			}
		}
	}
	return f, nil
}

// formatNotifyFlags is CONFIG GET notify-keyspace-events.
func formatNotifyFlags(f store.Class) string {
	var b []byte
	if f&notifyAll == notifyAll {
		b = append(b, 'A')
	} else {
		for _, l := range notifyLetters {
			if f&l.class != 0 {
				b = append(b, l.c)
			}
		}
	}
	if f&store.ClassKeyspace != 0 {
		b = append(b, 'K')
	}
	if f&store.ClassKeyevent != 0 {
		b = append(b, 'E')
	}
	if f&store.ClassKeyMiss != 0 {
		b = append(b, 'm')
	}
	return string(b)
}

// Notify emits a keyspace notification for key in the client's database
// (Redis's notifyKeyspaceEvent): class is the event's class, event its
// name ("set", "del", "expire", ...). Call it after the change, with the
// key's shard still locked. It costs one atomic load when notifications
// are off.
func (c *Client) Notify(class store.Class, event string, key []byte) {
	c.srv.notify(class, event, c.db.ID(), key)
}

// NotifyDB is Notify for a key of another database (MOVE, COPY).
func (c *Client) NotifyDB(class store.Class, event string, db int, key []byte) {
	c.srv.notify(class, event, db, key)
}

func (s *Server) notify(class store.Class, event string, db int, key []byte) {
	flags := store.Class(s.notifyFlags.Load())
	if flags&class == 0 || flags&(store.ClassKeyspace|store.ClassKeyevent) == 0 || s.hooks.Publish == nil {
		return
	}
	dbs := strconv.Itoa(db)
	if flags&store.ClassKeyspace != 0 {
		ch := make([]byte, 0, 16+len(dbs)+len(key))
		ch = append(ch, "__keyspace@"...)
		ch = append(ch, dbs...)
		ch = append(ch, "__:"...)
		ch = append(ch, key...)
		s.hooks.Publish(ch, []byte(event))
	}
	if flags&store.ClassKeyevent != 0 {
		ch := make([]byte, 0, 16+len(dbs)+len(event))
		ch = append(ch, "__keyevent@"...)
		ch = append(ch, dbs...)
		ch = append(ch, "__:"...)
		ch = append(ch, event...)
		s.hooks.Publish(ch, append([]byte(nil), key...))
	}
}

// notifyMiss emits the key-miss event of a read that found nothing.
func (s *Server) notifyMiss(db int, key []byte) {
	if store.Class(s.notifyFlags.Load())&store.ClassKeyMiss != 0 {
		s.notify(store.ClassKeyMiss, "keymiss", db, key)
	}
}
