// AGP 9 compiles Kotlin itself (no kotlin-android plugin).
plugins {
    alias(libs.plugins.android.application)
}

android {
    namespace = "dev.edgeav.demo"
    compileSdk = 36

    defaultConfig {
        applicationId = "dev.edgeav.demo"
        minSdk = 26
        targetSdk = 36
        versionCode = 1
        versionName = "1.0"
        ndk { abiFilters += "arm64-v8a" }
    }

    buildTypes {
        release {
            isMinifyEnabled = false
            // A debuggable build is what `edgeav app push` (adb run-as) can write into.
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    // Models are memory-mapped / copied as they are: never compress them into the APK.
    androidResources { noCompress += listOf("pte", "tflite") }

    packaging { jniLibs { useLegacyPackaging = false } } // 16 KB page-aligned native libraries
}

dependencies {
    implementation(project(":core"))
    implementation(libs.executorch.android)
    implementation(libs.litert)
    implementation(libs.camera.camera2)
    implementation(libs.camera.lifecycle)
    implementation(libs.camera.view)
    implementation(libs.appcompat)
    implementation(libs.activity.ktx)
}
