// dotnet fsi proofs/Processes.fsx   (after `dotnet build proofs`)
#load "Load.fsx"
#load "Processes.fs"
open Research.Proofs
exit (Report.run Processes.claims Processes.controls [])
