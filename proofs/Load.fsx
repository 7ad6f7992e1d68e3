// Shared prelude of the per-family scripts: the packages and the C# toolkit as built by
// `dotnet build proofs`, then the same core sources the project compiles.
#r "bin/Debug/net10.0/MathNet.Numerics.dll"
#r "bin/Debug/net10.0/FsCheck.dll"
#r "bin/Debug/net10.0/Research.Diffusion.dll"
#load "Claims.fs" "Numerics.fs" "Generators.fs" "Fixtures.fs" "Report.fs"
