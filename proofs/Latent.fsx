// dotnet fsi proofs/Latent.fsx   (after `dotnet build proofs`)
#load "Load.fsx"
#load "Divergences.fs" "Latent.fs"
open Research.Proofs
exit (Report.run Latent.claims Latent.controls [])
