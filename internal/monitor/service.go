package monitor

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/mcpdrift/mcpdrift/internal/approval"
	"github.com/mcpdrift/mcpdrift/internal/inventory"
	"github.com/mcpdrift/mcpdrift/internal/lockfile"
	"github.com/mcpdrift/mcpdrift/internal/oauth"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/service"
)

// Service returns the operations the admin socket serves while the daemon
// holds the database. Reads go to the store as `service.Local` would;
// checks run through the daemon (sharing its concurrency limit, never
// overlapping a scheduled check of the same server, feeding the alert
// lifecycle), and approvals resolve their alert at once.
func (a *App) Service() service.Service { return &appService{a: a} }

type appService struct{ a *App }

var _ service.Service = (*appService)(nil)

func (s *appService) local() *service.Local {
	return &service.Local{Config: s.a.Config(), Store: s.a.store, Engine: s.a.engine}
}

// Check probes the named servers now, through the daemon. The client
// identity check (as) runs after the alert lifecycle saw the report: it
// answers the caller and raises no alert.
func (s *appService) Check(ctx context.Context, names []string, as ...string) (report.Report, error) {
	servers, err := service.Select(s.a.Config(), names)
	if err != nil {
		return report.Report{}, err
	}
	ids, err := service.Identities(as)
	if err != nil {
		return report.Report{}, err
	}
	out := make([]report.Server, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Go(func() {
			rs, ok := s.a.check(ctx, srv, triggerManual, true)
			if !ok {
				// Cancelled, or overran its deadline: say so rather than
				// return an empty report.
				rs = s.a.engine.Status(srv)
				if ctx.Err() != nil {
					rs.Status, rs.Error = report.StatusError, "check cancelled: "+ctx.Err().Error()
				}
			} else {
				s.a.engine.Diverge(ctx, srv, &rs, ids)
			}
			out[i] = rs
		})
	}
	wg.Wait()
	return report.Report{Servers: out}, nil
}

func (s *appService) Status(ctx context.Context, names []string) ([]report.Server, error) {
	return s.local().Status(ctx, names)
}

func (s *appService) Inventory(ctx context.Context, names []string) ([]inventory.Server, error) {
	return s.local().Inventory(ctx, names)
}

func (s *appService) Diff(ctx context.Context, name string) (report.Server, error) {
	return s.local().Diff(ctx, name)
}

// Approve approves, then re-evaluates the server so that its drift alert
// resolves now.
func (s *appService) Approve(ctx context.Context, req approval.Request) (report.Approval, error) {
	ap, err := s.local().Approve(ctx, req)
	if err == nil {
		s.a.OnApprove(req.Server)
	}
	return ap, err
}

// ImportLock imports, then re-evaluates each server whose baseline
// changed, as Approve does.
func (s *appService) ImportLock(ctx context.Context, req service.ImportRequest) ([]lockfile.Imported, error) {
	res, err := s.local().ImportLock(ctx, req)
	for _, r := range res {
		if !r.Unchanged {
			s.a.OnApprove(r.Server)
		}
	}
	return res, err
}

func (s *appService) History(ctx context.Context, name string, limit int) (service.History, error) {
	return s.local().History(ctx, name, limit)
}

func (s *appService) Show(ctx context.Context, req service.ShowRequest) (json.RawMessage, error) {
	return s.local().Show(ctx, req)
}

func (s *appService) AuthStatus(ctx context.Context, names []string) ([]oauth.Status, error) {
	return s.local().AuthStatus(ctx, names)
}

func (s *appService) AuthLogin(ctx context.Context, grant *oauth.Record) error {
	return s.local().AuthLogin(ctx, grant)
}

func (s *appService) AuthLogout(ctx context.Context, server string) (bool, error) {
	return s.local().AuthLogout(ctx, server)
}
