/// Each experiment at small size: its key numbers against the catalogue's goldens and tolerances
/// (shared/derivations.md sections 0.3, 14, 15).
module Research.Experiments.Tests.ExperimentTests

open Xunit
open Research.Experiments.Tests.Support

[<Fact>]
let ``FIG-01 the SD schedule: discrete and continuous alpha-squared differ by at most 1.1075e-3 at t = 469`` () =
    let s = runExperiment "fig01-sd-schedule" []
    // PROC-05 golden 1.1075e-3 is quoted to 5 digits: half a unit in the last place is 5e-8.
    num s "max_abs_diff" |> close "max_abs_diff" 1.1075e-3 5e-8
    num s "max_abs_diff" |> below "max_abs_diff (PROC-05 check 3)" 1.2e-3
    num s "argmax_t" |> close "argmax_t" 469.0 0.0
    Assert.True(flag s "discrete_below_continuous_everywhere")
    // [A] goldens at 1e-12 relative (section 15.9).
    num s "alpha_bar_T" |> close "alpha_bar_T" 0.004660098513077234 (1e-12 * 0.00466)
    num s "alpha_sq_1" |> close "alpha_sq_1" 0.004779523758198566 (1e-12 * 0.00478)
    num s "alpha_bar_1" |> close "alpha_bar_1" 0.99915 1e-12
    num s "max_rel_diff_vs_discrete" |> close "max_rel_diff_vs_discrete (2.563%)" 0.02563 5e-6
    num s "argmax_rel_t" |> close "argmax_rel_t" 1000.0 0.0
    num s "max_abs_beta_continuous_minus_T_beta" |> below "beta(k/T) - T beta_k" 1e-13
    num s "log_gap_at_T" |> close "log_gap_at_T" 0.0253043 5e-8

[<Fact>]
let ``FIG-02 PF-ODE paths of the quantiles k/11 stay on their CDF levels and never cross`` () =
    let s = runExperiment "fig02-pf-quantiles" [ "time_points", "21"; "x_points", "41" ]
    // SDE-08 [O]: band masses 1/11 within 1e-7.
    num s "max_cdf_deviation" |> below "max_cdf_deviation" 1e-7
    num s "max_band_mass_deviation" |> below "max_band_mass_deviation" 1e-7
    num s "max_quantile_deviation" |> below "max_quantile_deviation" 1e-7
    Assert.True(flag s "trajectories_ordered")
    // p_1: means scaled by alpha(1) = sqrt(0.004779523758198566) = 0.0691...
    num s "alpha_1" |> close "alpha_1" (sqrt 0.004779523758198566) 1e-14
    num s "p1_variance_formula_max_err" |> below "p1 variances" 1e-14
    num s "p1_total_variation_to_standard_normal" |> below "TV(p_1, N(0,1))" 0.01

[<Fact>]
let ``FIG-03 the closed-form MLE and gradient ascent agree; the printed S0 formula is off by n`` () =
    let s = runExperiment "fig03-normal-mle" []
    num s "samples" |> close "samples" 300.0 0.0
    num s "gd_max_abs_gap" |> below "gd_max_abs_gap" 1e-9
    num s "log_likelihood_formula_residual" |> below "L(mu, sigma) formula" 1e-12
    num s "s0_printed_formula_variance_ratio" |> close "s0 ratio" 300.0 1e-9
    // 300 draws of N(1.3, 0.7^2): the MLE is within 5 SE of the truth.
    num s "mu_hat" |> close "mu_hat" 1.3 (5.0 * 0.7 / sqrt 300.0)
    num s "sigma_hat" |> close "sigma_hat" 0.7 (5.0 * 0.7 / sqrt 600.0)

[<Fact>]
let ``FIG-07 the KL from the data law to the fitted Gaussian falls during training to the moment-matching optimum`` () =
    let s = runExperiment "fig07-kl-training" [ "samples", "1000" ]
    let initial, final, optimum = num s "kl_initial", num s "kl_final", num s "kl_optimum"
    final |> below "kl_final" (initial / 100.0)
    num s "kl_max_rise" |> below "kl_max_rise (monotone)" 1e-12
    // The fit reaches the sample moments; their KL exceeds the optimum by O(1/n) only.
    (final - optimum) |> above "kl_final - kl_optimum" 0.0
    (final - optimum) |> below "kl_final - kl_optimum" 0.01
    num s "mu_optimum" |> close "mu* (G1)" 0.4 1e-12
    num s "var_optimum" |> close "v* (G1)" 1.042 1e-12
    num s "mu_final" |> close "mu_final → sample mean" (num s "sample_mean") 1e-3
    num s "var_final" |> close "var_final → sample variance" (num s "sample_var") 1e-3

[<Fact>]
let ``FIG-09 V(D*) equals 2 JS - log 4 and the generator objective equals KL(Q||P); goldens at mu = 1`` () =
    let s = runExperiment "fig09-gan-discriminator" [ "mu_points", "17" ]
    num s "V_Dstar_mu1" |> close "V(D*) at mu = 1" -1.163451396750418 1e-12
    num s "generator_objective_mu1" |> close "E_Q log((1-D*)/D*) at mu = 1" 0.5 1e-12
    num s "max_abs_V_minus_js" |> below "max |V - (2 JS - log 4)|" 1e-12
    num s "max_abs_generator_minus_kl" |> below "max |generator - mu^2/2|" 1e-12
    num s "min_V_Dstar" |> close "min V = -log 4 at Q = P" (num s "minus_log4") 1e-12

[<Fact>]
let ``FIG-10 forward KL covers both modes with N(0, 17); reverse KL seeks one at (3.9996, 1.0016)`` () =
    let s = runExperiment "fig10-mode-seeking" [ "grid", "9" ]
    // DIV-03: location 1e-6, value 1e-9.
    num s "forward_mu" |> close "forward_mu" 0.0 1e-6
    num s "forward_var" |> close "forward_var" 17.0 1e-6
    num s "reverse_mu" |> close "reverse_mu" 3.9996017382 1e-6
    num s "reverse_var" |> close "reverse_var" 1.0015932139 1e-6
    num s "reverse_kl" |> close "reverse_kl" 0.6930529416656 1e-9
    num s "reverse_kl_at_mode" |> close "KL at (4, 1)" 0.6930536454829 1e-9
    num s "reverse_left_mu" |> close "reverse fit from mu < 0" -3.9996017382 1e-6
    num s "reverse_kl_minus_log2" |> below "reverse KL below log 2" 0.0

[<Fact>]
let ``FIG-13 every row of the VE VP sub-VP RF table verifies and every lambda is monotone`` () =
    let s = runExperiment "fig13-process-table" [ "grid", "500" ]
    num s "table_max_err" |> below "table_max_err" 1e-10
    for row in [ "ve"; "vp"; "sub_vp"; "rf" ] do
        num s $"{row}_proc01_quadrature_max_rel_err" |> below $"{row} PROC-01 quadrature" 1e-9
        num s $"{row}_time_at_varsigma_max_err" |> below $"{row} TimeAtVarsigma" 1e-10
    Assert.True(flag s "lambda_all_monotone")

[<Fact>]
let ``FIG-14 plain Langevin keeps the initial proportions; annealed Langevin recovers the 0.8 weight`` () =
    let s = runExperiment "fig14-langevin" []
    let se = num s "standard_error"
    // LD-02 with section 15.8: annealed within 5 SE + 0.02 of 0.8 (reference 0.7885).
    num s "annealed_mode_fraction" |> close "annealed_mode_fraction" 0.8 (5.0 * se + 0.02)
    // Plain: within 5 SE + 0.02 of the initial 0.5, and far from 0.8.
    num s "plain_mode_fraction" |> close "plain_mode_fraction" 0.5 (5.0 * se + 0.02)
    (0.8 - num s "plain_mode_fraction") |> above "0.8 - plain" (20.0 * se)

[<Fact>]
let ``SDE-02 the Fokker-Planck residual is at round-off for the true g and of order one for g in place of g-squared`` () =
    let s = runExperiment "sde02-fokker-planck" [ "t_points", "41"; "x_points", "61" ]
    // SDE-02: relative 1e-10 against max(|p|, |dp/dt|).
    num s "max_rel_residual_true_g" |> below "true g" 1e-10
    num s "median_rel_residual_wrong_g" |> above "wrong g (median)" 0.1
    num s "max_rel_residual_wrong_g" |> above "wrong g (max)" 1.0
    // [D] central difference in t with the section-15 step: 1e-7 relative.
    num s "max_rel_residual_fd_time_derivative" |> below "finite-difference dp/dt" 1e-7

[<Fact>]
let ``SDE-03 and SDE-05 reverse SDE and PF-ODE samples match the exact marginals; the wrong drift does not`` () =
    let s = runExperiment "sde05-reverse-sde" [ "particles", "10000"; "steps", "200" ]
    // Mean, variance and P(x > 0) at t = 0.5, 0.2, 0.05, 1e-3 within 5 SE (the step bias is far below
    // an SE at this size); the negative control misses by more than 20 SE (the power rule).
    num s "reverse_sde_max_abs_z" |> below "reverse SDE |z|" 5.0
    num s "pf_ode_max_abs_z" |> below "PF-ODE |z|" 5.0
    num s "forward_sde_max_abs_z" |> below "forward SDE |z|" 5.0
    num s "negative_control_max_abs_z" |> above "negative control |z|" 20.0
    // Kolmogorov–Smirnov: sqrt(n) D below 2 (p ≈ 7e-4 per snapshot), and far above for the control.
    num s "reverse_sde_max_ks_sqrt_n" |> below "reverse SDE KS" 2.0
    num s "pf_ode_max_ks_sqrt_n" |> below "PF-ODE KS" 2.0
    num s "negative_control_max_ks_sqrt_n" |> above "negative control KS" 10.0

[<Fact>]
let ``Sampler convergence: fitted orders on G4 under VP and VE are 1 for Euler and DDIM, 2 for Heun and DPM-Solver-2, 3 for DPM-Solver-3`` () =
    let s = runExperiment "sampler-convergence" [ "points", "32"; "stochastic_max_power", "5"; "particles", "500" ]
    let order (sampler: string) (proc: string) = s.["orders"].[sampler].[proc].GetValue<float>()
    // [R] as in the library's order tests: |fitted - p| <= 0.15 (±10% on the halving ratio 2^p, log2 1.1 = 0.14,
    // rounded up). Neighbouring orders are 1 apart, so a first-order method cannot pass as second order.
    let expected =
        [ "PF-ODE Euler", 1.0
          "DDIM", 1.0
          "PF-ODE Heun", 2.0
          "DPM-Solver-2", 2.0
          "DPM-Solver-3", 3.0 ]
    for proc in [ "VP-linear"; "VE-geometric" ] do
        for (sampler, p) in expected do
            order sampler proc |> close $"order of {sampler} under {proc}" p 0.15
    // Every fixed-step ODE sampler in the sweep against its declared order (data on the sampler): all of the
    // library's and the one written outside it.
    let declared = s.["declared_orders"].AsObject()
    Assert.Equal(Research.Experiments.SamplerConvergence.odeSamplers.Length, declared.Count)
    Assert.True(declared.ContainsKey Research.Experiments.SamplerConvergence.kutta3.Name)
    for KeyValue(sampler, p) in declared do
        for proc in [ "VP-linear"; "VE-geometric" ] do
            order sampler proc |> close $"order of {sampler} under {proc}" (p.GetValue<float>()) 0.15
    num s "max_abs_order_deviation" |> below "max |fitted - declared|" 0.15
    // Weak orders by moment errors on a Gaussian: each fitted rate at least its declared weak order - 0.25.
    num s "min_weak_order_margin" |> above "min (fitted - declared) weak order" -0.25
    // Stochastic samplers are scored by MMD^2, not fitted: DDPM ancestral at the finest grid is within 5 SE of an
    // exact sample's MMD^2 (section 0.3 [M]) and, at 4 steps, far above it.
    for proc in [ "VP-linear"; "VE-geometric" ] do
        let exact, se = num s $"mmd2_exact_sample_{proc}", num s $"mmd2_exact_sample_se_{proc}"
        let difference = sqrt (se * se + (num s $"mmd2_finest_se_{proc}_DDPM ancestral") ** 2.0)
        num s $"mmd2_finest_{proc}_DDPM ancestral" |> close $"DDPM ancestral MMD² under {proc}" exact (5.0 * difference)
        num s $"mmd2_coarsest_{proc}_DDPM ancestral" |> above $"DDPM ancestral MMD² at 4 steps under {proc}" (exact + 20.0 * se)
