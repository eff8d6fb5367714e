package sqlmigrate

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pressly/goose/v3/lock"
)

// advisoryLocker is goose's lock.SessionLocker on a PostgreSQL session-level
// advisory lock, with the same key as goose's own locker
// (lock.NewPostgresSessionLocker), so a `goose up` run by hand and a deploy
// also wait for each other. It is ours rather than goose's because goose's
// counts its timeout in whole-second polls and fails with a bare "failed to
// acquire lock"; this one polls at any interval, says who holds the lock,
// and fails with ErrLocked.
//
// The lock belongs to the session: PostgreSQL releases it when the
// connection ends, so a run killed mid-migration never leaves it behind.
type advisoryLocker struct {
	id      int64
	timeout time.Duration
	poll    time.Duration
	log     func(string)

	err error // SessionLock's failure, which goose wraps in its own words
}

var _ lock.SessionLocker = (*advisoryLocker)(nil)

func (l *advisoryLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	l.err = l.sessionLock(ctx, conn)
	return l.err
}

// lastErr returns the error SessionLock returned, if any.
func (l *advisoryLocker) lastErr() error { return l.err }

func (l *advisoryLocker) sessionLock(ctx context.Context, conn *sql.Conn) error {
	start := time.Now()
	holder, waiting := "", false
	for {
		var ok bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", l.id).Scan(&ok); err != nil {
			return fmt.Errorf("taking the migration lock: %w", err)
		}
		waited := time.Since(start)
		if ok {
			if waiting {
				l.log(fmt.Sprintf("took the migration lock after %s", waited.Round(time.Millisecond)))
			}
			return nil
		}
		// The latest holder wins: the lock may pass between other runs while this one waits.
		holder = cmp.Or(l.holder(ctx, conn), holder, "another session")
		if waited >= l.timeout {
			return fmt.Errorf("waiting for the migration lock, held by %s: %w after %s", holder, ErrLocked, l.timeout)
		}
		if !waiting {
			l.log(fmt.Sprintf("waiting up to %s for the migration lock, held by %s", l.timeout, holder))
			waiting = true
		}
		t := time.NewTimer(min(l.poll, l.timeout-waited))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for the migration lock, held by %s: %w", holder, ctx.Err())
		case <-t.C:
		}
	}
}

func (l *advisoryLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var ok bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", l.id).Scan(&ok); err != nil {
		// The connection closes right after; PostgreSQL releases the lock with the session.
		return fmt.Errorf("releasing the migration lock: %w", err)
	}
	if !ok {
		return errors.New("releasing the migration lock: this session did not hold it")
	}
	return nil
}

// holder describes the session holding the lock, as far as this user may
// see it in pg_stat_activity, or "" when it cannot tell (the lock was just
// released, say). Advisory locks are per database; a bigint key is split
// into classid (high half) and objid (low half) with objsubid 1.
func (l *advisoryLocker) holder(ctx context.Context, conn *sql.Conn) string {
	const q = `
SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), ''),
       coalesce(extract(epoch FROM now() - a.backend_start)::bigint, 0)
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid::bigint = ($1::bigint >> 32) AND l.objid::bigint = ($1::bigint & 4294967295)
LIMIT 1`
	var (
		pid         int64
		app, client string
		age         int64
	)
	if err := conn.QueryRowContext(ctx, q, l.id).Scan(&pid, &app, &client, &age); err != nil {
		return ""
	}
	parts := []string{fmt.Sprintf("pid %d", pid)}
	if app != "" {
		parts = append(parts, fmt.Sprintf("application %q", app))
	}
	if client != "" {
		parts = append(parts, "client "+client)
	}
	if age > 0 {
		parts = append(parts, fmt.Sprintf("connected %s ago", time.Duration(age)*time.Second))
	}
	return "session " + strings.Join(parts, ", ")
}
