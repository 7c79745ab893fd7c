package render

import "text/template/parse"

// walkParsed parses one Helm template with Go's own parser, keeping
// comments and not checking function names (Helm's are not known here),
// and calls visit for every node of every template it defines, in source
// order within each. It reports false when the template does not parse:
// Helm will report that error itself.
func walkParsed(name, src string, visit func(parse.Node)) bool {
	tr := parse.New(name)
	tr.Mode = parse.ParseComments | parse.SkipFuncCheck
	set := map[string]*parse.Tree{}
	if _, err := tr.Parse(src, "", "", set); err != nil {
		return false
	}
	for _, t := range set {
		walkTemplate(t.Root, visit)
	}
	return true
}

// walkTemplate calls visit for n and every node below it.
func walkTemplate(n parse.Node, visit func(parse.Node)) {
	if n == nil {
		return
	}
	visit(n)
	walk := func(c parse.Node) { walkTemplate(c, visit) }
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				walk(c)
			}
		}
	case *parse.ActionNode:
		walk(n.Pipe)
	case *parse.IfNode:
		walk(n.Pipe)
		walk(n.List)
		walk(n.ElseList)
	case *parse.RangeNode:
		walk(n.Pipe)
		walk(n.List)
		walk(n.ElseList)
	case *parse.WithNode:
		walk(n.Pipe)
		walk(n.List)
		walk(n.ElseList)
	case *parse.TemplateNode:
		walk(n.Pipe)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				walk(c)
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walk(a)
		}
	case *parse.ChainNode:
		walk(n.Node)
	}
}
