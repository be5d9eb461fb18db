// Pure Kotlin/JVM, no Android imports: the same sources tools/host-test.sh compiles with kotlinc.
plugins {
    alias(libs.plugins.kotlin.jvm)
}

kotlin {
    jvmToolchain(17)
    compilerOptions {
        languageVersion.set(org.jetbrains.kotlin.gradle.dsl.KotlinVersion.KOTLIN_2_2)
        apiVersion.set(org.jetbrains.kotlin.gradle.dsl.KotlinVersion.KOTLIN_2_2)
    }
}

dependencies {
    testImplementation(libs.junit)
}

tasks.test {
    // The golden vectors edgeav's Python side writes (python -m tests.apps.golden).
    systemProperty("edgeav.golden", rootDir.resolve("../tests/apps/golden").path)
}
