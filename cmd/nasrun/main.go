// Command nasrun searches for the most accurate small vision network under a
// latency budget on the device it runs on (hardware-aware NAS, MnasNet-style
// reward, regularized evolution), trains it, and measures it — one static
// binary, no Python, CUDA or C toolchain.
//
// Usage:
//
//	nasrun <command> [flags]
//
// Run "nasrun help" for the list of commands and "nasrun <command> -h" for
// a command's flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand of nasrun.
type command struct {
	name    string
	summary string
	// run parses args (without the command name) and does the work. It
	// writes normal output to stdout and returns an error for the user.
	run func(args []string, stdout io.Writer) error
}

var commands = map[string]command{}

// register adds a subcommand; each command's file calls it from init.
func register(c command) { commands[c.name] = c }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "nasrun: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := c.run(args[1:], stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "nasrun %s: %v\n", c.name, err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "nasrun: hardware-aware neural architecture search and a pure-Go deep-learning engine")
	fmt.Fprintln(w, "\nUsage: nasrun <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-15s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'nasrun <command> -h' for the flags of a command.")
}

// newFlags returns a flag set for a command whose usage text starts with the
// command line and a description.
func newFlags(name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: nasrun %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}
