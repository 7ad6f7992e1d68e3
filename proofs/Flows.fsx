// dotnet fsi proofs/Flows.fsx   (after `dotnet build proofs`)
#load "Load.fsx"
#r "bin/Release/net10.0/Research.Torch.dll"
#r "bin/Release/net10.0/Research.Models.dll"
#load "Flows.fs"
open Research.Proofs
exit (Report.run Flows.claims Flows.controls [])
