// dotnet fsi proofs/Sde.fsx   (after `dotnet build proofs`)
#load "Load.fsx"
#load "Processes.fs" "Score.fs" "Sde.fs"
open Research.Proofs
exit (Report.run Sde.claims Sde.controls [])
