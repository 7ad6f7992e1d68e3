/// The VAE, GAN, RealNVP and EBM experiments at test size, each checked against what its figure must show
/// (the figures FIG-04, FIG-10's optional part, FIG-11 and FIG-15).
module Research.Experiments.Tests.FamilyExperimentTests

open Xunit
open Research.Experiments.Tests.Support

[<Fact>]
let ``fig04-autoencoders: VAE codes fill the prior's 3-sd disc, AE codes do not, and IWAE_k rises from the ELBO`` () =
    let s = runExperiment "fig04-autoencoders" [ "steps", "500"; "subset", "12000"; "hidden1", "128"; "hidden2", "64"; "grid", "5"; "iwae_images", "4"; "iwae_repeats", "4" ]
    // The KL term pulls the VAE's codes towards N(0, I) (98.9% of which lies inside ‖z‖ ≤ 3): 86% at this size,
    // 98% after 1500 steps; the AE's codes spread out unchecked (1% inside at this size, radius ≈ 40).
    num s "vae_fraction_in_3sd_disc" |> above "vae_fraction_in_3sd_disc" 0.75
    num s "ae_fraction_in_3sd_disc" |> below "ae_fraction_in_3sd_disc" 0.3
    num s "vae_mean_kl" |> above "vae_mean_kl" 1.0
    // An untrained Bernoulli decoder scores ln 2 = 0.693 per pixel.
    num s "vae_bce_per_pixel" |> below "vae_bce_per_pixel" 0.45
    num s "ae_bce_per_pixel" |> below "ae_bce_per_pixel" 0.45
    num s "iwae_1000" |> above "iwae_1000 vs the ELBO" (num s "iwae_images_elbo" - 3.0 * (num s "iwae_1000_se" + num s "iwae_images_elbo_se"))
    Assert.True(flag s "iwae_non_decreasing")

[<Fact>]
let ``gan-ring: the MLP GAN covers the ring's 8 modes and its run is reported finite`` () =
    let s = runExperiment "gan-ring" [ "steps", "1500"; "eval_every", "100" ]
    Assert.False(flag s "diverged")
    num s "modes_covered_final" |> above "modes_covered_final" 6.0
    num s "high_quality_final" |> above "high_quality_final" 0.5

[<Fact>]
let ``fig11-realnvp: the learned density integrates to 1 and the test NLL is far below the base density's`` () =
    let s = runExperiment "fig11-realnvp" [ "steps", "600"; "grid", "100" ]
    // Midpoint rule on 100² points plus the sampled mass outside the box (SE of a 1e5-sample fraction ≤ 0.0016).
    num s "total_mass" |> close "total_mass" 1.0 (0.005 + 4.0 * num s "quadrature_error_estimate")
    // N(0, I) fitted to the moons' moments (covariance about diag(0.75, 0.25)) scores ≈ 2.2 nats; the flow far less.
    num s "test_nll_nats" |> below "test_nll_nats" 1.5

[<Fact>]
let ``fig15-energy-model: at the double well's modes the learned score is near 0 and the energy Laplacian positive, and annealed Langevin covers the ring's modes`` () =
    let s = runExperiment "fig15-energy-model" [ "steps", "2000"; "steps_2d", "4000"; "levels", "6"; "langevin_steps", "20" ]
    Assert.True(flag s "learned_laplacian_positive_at_modes")
    // The score's scale on [-2, 2] is |f'| up to 96; at the modes it must be small against that.
    abs (num s "learned_score_at_minus_1") |> below "|learned score at -1|" 4.0
    abs (num s "learned_score_at_plus_1") |> below "|learned score at +1|" 4.0
    // The learned model is the σ_min-smoothed energy, whose Laplacian at the modes is 29.6.
    num s "learned_laplacian_at_minus_1" |> close "learned_laplacian_at_minus_1" (num s "smoothed_laplacian_at_modes") 8.0
    num s "learned_laplacian_at_plus_1" |> close "learned_laplacian_at_plus_1" (num s "smoothed_laplacian_at_modes") 8.0
    // The ring: the sampler with the exact score covers all 8 modes, 98.9% of a 2-D Gaussian lies in its 3-sd disc.
    num s "ring_exact_score_modes_covered" |> close "ring_exact_score_modes_covered" 8.0 0.0
    num s "ring_exact_score_high_quality_fraction" |> above "ring_exact_score_high_quality_fraction" 0.95
    // The learned energy past the annulus plateau, whose score misses the angular half (relative error 0.5) and leaves
    // about 0.4 of the samples in the discs: the score within 0.3 at σ_min, and (4000 steps: 8 modes, 0.95) at least 7 modes.
    num s "ring_score_relative_error_sigma_0.05" |> below "ring_score_relative_error_sigma_0.05" 0.3
    num s "ring_high_quality_fraction" |> above "ring_high_quality_fraction" 0.8
    num s "ring_modes_covered" |> above "ring_modes_covered" 7.0

[<Fact>]
let ``fig06-taxonomy: the table's columns come from the model classes, and the implicit GAN exposes no density`` () =
    let s = runExperiment "fig06-taxonomy" []
    let text (k: string) = s.[k].GetValue<string>()
    Assert.Equal("ImageRealNvp,RealNvp", text "classes_ExplicitExact")
    Assert.Equal("ImageDiffusion,Vae", text "classes_ExplicitBound")
    Assert.Equal("Gan", text "classes_Implicit")
    Assert.Equal("EnergyModel", text "unnormalised_classes")
    num s "implicit_density_members" |> close "implicit_density_members" 0.0 0.0


[<Fact>]
let ``fig08-computation-graphs: every family class is drawn with its networks, and the autoregressive family is marked absent`` () =
    let s = runExperiment "fig08-computation-graphs" []
    let text (k: string) = s.[k].GetValue<string>()
    num s "classes_drawn" |> close "classes_drawn" 6.0 0.0
    Assert.Equal("autoregressive", text "families_without_a_class")
    Assert.Equal("G,D", text "Gan_networks")
    Assert.Equal("encoder,decoder", text "Vae_networks")
    Assert.Equal("Network", text "ImageDiffusion_networks")
    Assert.Equal("Network", text "EnergyModel_networks")
