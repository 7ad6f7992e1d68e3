// dotnet fsi proofs/Vdm.fsx   (after `dotnet build proofs`)
#load "Load.fsx"
#load "Processes.fs" "Score.fs" "Vdm.fs"
open Research.Proofs
exit (Report.run Vdm.claims Vdm.controls [])
