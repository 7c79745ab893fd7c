package plugin

import "github.com/spf13/cobra"

// options is kubectl's Options pattern, which every command follows:
// Complete fills derived state from the arguments, Validate checks it, Run
// does the work.
type options interface {
	Complete(args []string) error
	Validate() error
	Run() error
}

// runOptions is the RunE of a command built on o.
func runOptions(o options) func(*cobra.Command, []string) error {
	return func(_ *cobra.Command, args []string) error {
		if err := o.Complete(args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		return o.Run()
	}
}
