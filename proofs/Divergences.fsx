// dotnet fsi proofs/Divergences.fsx   (after `dotnet build proofs`)
#load "Load.fsx"
#load "Divergences.fs"
open Research.Proofs
exit (Report.run Divergences.claims Divergences.controls [])
