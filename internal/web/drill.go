package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/batchlens/batchlens/internal/query"
)

// withoutParam removes param from v and returns its value; given more than
// once is a *query.ParamError.
func withoutParam(v url.Values, param string) (string, error) {
	vals := v[param]
	delete(v, param)
	if len(vals) > 1 {
		return "", &query.ParamError{Param: param, Msg: "given more than once"}
	}
	if len(vals) == 0 {
		return "", nil
	}
	return vals[0], nil
}

// noParams refuses any query parameter.
func noParams(r *http.Request) error {
	v, err := params(r)
	if err != nil {
		return err
	}
	if len(v) > 0 {
		return &query.ParamError{Msg: "this endpoint takes no parameters"}
	}
	return nil
}

func (s *server) getItems(r *http.Request) (any, error) {
	v, err := params(r)
	if err != nil {
		return nil, err
	}
	series, err := withoutParam(v, "series")
	if err != nil {
		return nil, err
	}
	p, err := query.ParseParams(v, s.engine.Now())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.queryTimeout)
	defer cancel()
	return s.engine.Items(ctx, r.PathValue("id"), r.PathValue("widget"), series, p)
}

func (s *server) getRun(r *http.Request) (any, error) {
	if err := noParams(r); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.queryTimeout)
	defer cancel()
	return s.engine.Run(ctx, r.PathValue("cluster"), r.PathValue("uid"))
}

func (s *server) getPod(r *http.Request) (any, error) {
	if err := noParams(r); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.queryTimeout)
	defer cancel()
	return s.engine.Pod(ctx, r.PathValue("cluster"), r.PathValue("uid"))
}

func (s *server) getCronJob(r *http.Request) (any, error) {
	v, err := params(r)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"cluster", "namespace", "cronjob"} {
		if v.Has(k) {
			return nil, &query.ParamError{Param: k, Msg: "is given by the path of this endpoint"}
		}
	}
	p, err := query.ParseParams(v, s.engine.Now())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.queryTimeout)
	defer cancel()
	return s.engine.CronJob(ctx, r.PathValue("cluster"), r.PathValue("namespace"), r.PathValue("name"), p)
}
