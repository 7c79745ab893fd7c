@echo off
rem Completion for `kubectl secure` (kubectl 1.26 or newer): on <TAB>, kubectl
rem runs kubectl_complete-secure from PATH and shows what it prints.
kubectl-secure.exe __complete %*
