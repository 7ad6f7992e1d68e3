// dotnet fsi proofs/Ddpm.fsx   (after `dotnet build proofs`)
#load "Load.fsx"
#load "Divergences.fs" "Processes.fs" "Score.fs" "Ddpm.fs"
open Research.Proofs
exit (Report.run Ddpm.claims Ddpm.controls [])
