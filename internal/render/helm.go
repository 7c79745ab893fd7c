package render

import (
	"context"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

func (r *renderer) renderChart(ctx context.Context, u unit) *manifest.Result {
	return &manifest.Result{}
}
