// Shared prelude of the per-family scripts: the packages and the C# toolkit as built by
// `./run.sh setup` (Release), then the same core sources the project compiles.
#r "bin/Release/net10.0/MathNet.Numerics.dll"
#r "bin/Release/net10.0/FsCheck.dll"
#r "bin/Release/net10.0/Research.Diffusion.dll"
#load "Claims.fs" "Numerics.fs" "Generators.fs" "Fixtures.fs" "Report.fs"
