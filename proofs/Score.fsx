// dotnet fsi proofs/Score.fsx   (after `dotnet build proofs`)
#load "Load.fsx"
#load "Processes.fs" "Score.fs"
open Research.Proofs
exit (Report.run Score.claims Score.controls [])
