#include "services/product_image_service.hpp"

#include "utils/errors.hpp"

namespace flaskcart::services {

std::string product_image_path(const std::string& product_id) {
    return "/products/" + product_id + "/image";
}

void ProductImageService::attach(const std::string& product_id, const std::string& content_type,
                                 const std::string& data) {
    records_.put_image(product_id, content_type, data);
    if (!records_.set_image_url(product_id, product_image_path(product_id))) {
        records_.remove_image(product_id);
        throw DomainError::not_found("product");
    }
}

}  // namespace flaskcart::services
