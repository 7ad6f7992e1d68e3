// dotnet fsi proofs/Energy.fsx   (after `dotnet build proofs`)
#load "Load.fsx"
#load "Energy.fs"
open Research.Proofs
exit (Report.run Energy.claims Energy.controls [])
