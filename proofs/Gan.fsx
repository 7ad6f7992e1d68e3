// dotnet fsi proofs/Gan.fsx   (after `dotnet build proofs`)
#load "Load.fsx"
#load "Divergences.fs" "Gan.fs"
open Research.Proofs
exit (Report.run Gan.claims Gan.controls [])
