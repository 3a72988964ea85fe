#pragma once
// The rule of a product's uploaded image: it is stored under the product's id and the product's
// image_url points at it; an image never outlives its product, also when the product is
// deleted while the upload runs.

#include <string>
#include <string_view>

#include "models/image_model.hpp"
#include "models/product_model.hpp"

namespace flaskcart::services {

// The writes an upload makes; the seam ProductImageService's unit tests fake.
class ProductImageRecords {
  public:
    virtual ~ProductImageRecords() = default;
    // Replaces the product's image.
    virtual void put_image(std::string_view product_id, std::string content_type,
                           std::string data) = 0;
    virtual void remove_image(std::string_view product_id) = 0;
    // False when the product does not exist.
    virtual bool set_image_url(std::string_view product_id, const std::string& image_url) = 0;
};

// ProductImageRecords over the `product_images` and `products` collections.
class StoredProductImageRecords final : public ProductImageRecords {
  public:
    StoredProductImageRecords(models::ImageStore& images, models::ProductStore& products)
        : images_(images), products_(products) {}
    void put_image(std::string_view product_id, std::string content_type,
                   std::string data) override {
        images_.put(product_id, std::move(content_type), std::move(data));
    }
    void remove_image(std::string_view product_id) override { images_.remove(product_id); }
    bool set_image_url(std::string_view product_id, const std::string& image_url) override {
        return products_.set_image_url(product_id, image_url);
    }

  private:
    models::ImageStore& images_;
    models::ProductStore& products_;
};

// Where a product's uploaded image is served: "/products/{id}/image".
std::string product_image_path(const std::string& product_id);

// Thread-safe when its records are.
class ProductImageService {
  public:
    explicit ProductImageService(ProductImageRecords& records) : records_(records) {}

    // Stores `data` (already checked to be a `content_type` image) as the product's image and
    // points its image_url at it. DomainError not found when the product does not exist (any
    // more): no transactions, so the image is written first and removed again when the product
    // turns out to be gone.
    void attach(const std::string& product_id, const std::string& content_type,
                const std::string& data);

  private:
    ProductImageRecords& records_;
};

}  // namespace flaskcart::services
